"""The web gallery in a real headless Chromium."""
