"""One suite per port, run on every adapter: the object store, the queue, resumable parts."""
