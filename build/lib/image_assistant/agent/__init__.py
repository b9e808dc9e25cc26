"""The sync agent: reads a Photos library or a folder and keeps a server in step."""
