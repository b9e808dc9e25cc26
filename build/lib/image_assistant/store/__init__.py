"""Object store: one port (base.py) and its adapters (local directory, S3)."""
