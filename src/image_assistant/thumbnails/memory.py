"""A long-running process's memory kept bounded (the worker, and the API, which renders and
zips): few malloc arenas, large blocks mapped on their own, and freed pages handed back to the
system after each job; libvips' caches are off from when it loads (thumbnails/vips.py).

Without this `serve` grew from ~100 MB idle to ~360 MB after a few dozen thumbnails and kept it:
libvips caches recent operations with their pixels (up to 100 MB and 100 operations), and glibc
gives each job thread its own arena whose freed pages it keeps for later.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from functools import cache

log = logging.getLogger("image_assistant.thumbnails")
M_ARENA_MAX = -8  # glibc's mallopt parameters (malloc.h)
M_MMAP_THRESHOLD = -3
ARENAS = 2
# Blocks this large or larger are mapped on their own and unmapped when freed. Fixed, so that
# glibc does not raise it after the first large free (its default, up to 32 MiB): a photo's
# buffer in a zip would then come from the heap and its pages stay with the process.
MMAP_THRESHOLD = 1 << 20


def bound_memory() -> None:
    """Cap glibc's arenas and its mmap threshold; call before job threads start."""
    libc = _libc()
    if libc is not None and hasattr(libc, "mallopt"):
        libc.mallopt(M_ARENA_MAX, ARENAS)
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)


def release_memory() -> None:
    """Give freed heap pages back to the system (glibc's malloc_trim; a no-op elsewhere)."""
    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)


@cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        return ctypes.CDLL(name)
    except OSError:
        return None
