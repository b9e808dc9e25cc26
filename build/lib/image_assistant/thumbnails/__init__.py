"""Thumbnails: the durable queue (queue.py), the pixels (render.py), jobs, workers, reconciler."""
