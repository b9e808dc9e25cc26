"""A one-line progress counter on stderr for long operations commands (no extra dependency)."""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

REDRAW_SECONDS = 0.5


class ProgressLine:
    """`label: done/total (MB, MB/s)`, redrawn in place at most twice a second; thread-safe."""

    def __init__(self, label: str, total: int, *, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self.bytes = 0
        self._stream = stream or sys.stderr
        self._started = time.monotonic()
        self._drawn = 0.0
        self._lock = threading.Lock()

    def advance(self, count: int = 1, size: int = 0) -> None:
        with self._lock:
            self.done += count
            self.bytes += size
            now = time.monotonic()
            if now - self._drawn >= REDRAW_SECONDS:
                self._drawn = now
                self._draw(end="\r")

    def finish(self) -> None:
        with self._lock:
            self._draw(end="\n")

    def _draw(self, *, end: str) -> None:
        elapsed = max(time.monotonic() - self._started, 1e-6)
        megabytes = self.bytes / 1e6
        rate = megabytes / elapsed
        counts = f"{self.label}: {self.done}/{self.total}"
        self._stream.write(f"{counts} ({megabytes:.1f} MB, {rate:.1f} MB/s){end}")
        self._stream.flush()
