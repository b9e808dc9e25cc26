"""The HTTP API through a running server: sync, uploads, auth and pairing, the gallery's endpoints."""
