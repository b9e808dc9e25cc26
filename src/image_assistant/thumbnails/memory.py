"""A long-running worker's memory kept bounded: libvips' caches off, few malloc arenas, and freed
pages handed back to the system after each job.

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
M_ARENA_MAX = -8  # glibc's mallopt parameter (malloc.h)
ARENAS = 2


def bound_memory() -> None:
    """Turn libvips' operation cache off and cap glibc's arenas; call before job threads start."""
    import pyvips  # type: ignore[import-untyped]  # pyvips ships no type hints

    pyvips.cache_set_max(0)
    pyvips.cache_set_max_mem(0)
    pyvips.cache_set_max_files(0)
    libc = _libc()
    if libc is not None and hasattr(libc, "mallopt"):
        libc.mallopt(M_ARENA_MAX, ARENAS)


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
