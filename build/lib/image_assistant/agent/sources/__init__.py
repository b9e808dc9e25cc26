"""Where photos come from: an Apple Photos library or a plain folder tree."""
