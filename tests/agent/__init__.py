"""The sync agent end to end: its CLI as a user runs it, against a real `image-assistant serve`."""
