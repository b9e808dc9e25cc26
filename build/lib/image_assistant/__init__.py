"""Image Assistant: keep an Apple Photos library (or any photo folder) in storage you own."""

__version__ = "0.1.0"
