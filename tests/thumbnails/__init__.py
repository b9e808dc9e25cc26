"""Thumbnails: the pipeline through a running server, the rendering, the queue's workers."""
