"""Originals that are not on this disk (iCloud "Optimize Mac Storage"), fetched on demand.

`OriginalFetcher` is the port: bring one asset's original into an empty folder. The macOS
adapter asks Photos for it (osxphotos: PhotoKit, or Photos' own export with download-missing);
the Photos library itself is never written. `Staging` is the folder those copies wait in
between download and upload: a byte budget (`--staging-max`), never letting the disk fall
below 10% free, and emptied at the start of every pass so a killed run leaves nothing behind.
"""

from __future__ import annotations

import abc
import importlib
import re
import shutil
import sys
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from image_assistant.agent.sources.base import Asset

DEFAULT_STAGING_MAX = 5 * 1024**3
MIN_FREE_RATIO = 0.10
NEEDS_MACOS = "fetching originals from iCloud needs macOS with Photos"
SIZE = re.compile(r"(\d+(?:\.\d+)?)([A-Z]*)")
UNITS = {"": 1, "B": 1, "K": 1024, "KB": 1024, "M": 1024**2, "MB": 1024**2, "G": 1024**3, "GB": 1024**3}


class FetchFailed(Exception):
    """One original could not be fetched; the message is the reason shown to people."""


class OriginalFetcher(abc.ABC):
    """Brings originals that are known but not on this disk into a staging folder."""

    def unavailable(self) -> str | None:
        """Why nothing can be fetched here at all (None: fetching may work)."""
        return None

    @abc.abstractmethod
    def fetch(self, asset: Asset, into: Path) -> Path:
        """Download `asset`'s original into the empty folder `into`; return the file.

        Raises FetchFailed with a reason a person can act on (no permission, no network…).
        """


class NoFetcher(OriginalFetcher):
    """Where originals cannot be fetched (Linux, a folder source): they wait, with the reason."""

    def __init__(self, reason: str = NEEDS_MACOS) -> None:
        self.reason = reason

    def unavailable(self) -> str | None:
        return self.reason

    def fetch(self, asset: Asset, into: Path) -> Path:
        raise FetchFailed(self.reason)


class PhotosFetcher(OriginalFetcher):
    """macOS: Photos downloads the original from iCloud (PhotoKit, else AppleScript export)."""

    def __init__(self, library: Path) -> None:
        self.library = library
        self._db: Any = None
        self._lock = threading.Lock()

    def unavailable(self) -> str | None:
        return None if sys.platform == "darwin" else NEEDS_MACOS

    def _photo(self, photos_uuid: str) -> Any:
        import osxphotos  # type: ignore[import-untyped]  # osxphotos ships no type hints

        with self._lock:
            if self._db is None:
                self._db = osxphotos.PhotosDB(dbfile=str(self.library))
            return self._db.get_photo(photos_uuid)

    def fetch(self, asset: Asset, into: Path) -> Path:
        from osxphotos.exportoptions import ExportOptions  # type: ignore[import-untyped]
        from osxphotos.photoexporter import PhotoExporter  # type: ignore[import-untyped]

        if (reason := self.unavailable()) is not None:
            raise FetchFailed(reason)
        photo = self._photo(asset.photos_uuid)
        if photo is None:
            raise FetchFailed("Photos no longer has this asset")
        options = ExportOptions(download_missing=True, use_photokit=True, timeout=600)
        try:
            results = PhotoExporter(photo).export(str(into), options=options)
        except Exception as exc:  # PhotoKit/AppleScript errors: permission, network, timeouts
            raise FetchFailed(f"Photos could not download it ({type(exc).__name__})") from exc
        exported = [Path(p) for p in results.exported if Path(p).is_file()]
        if not exported:
            why = "; ".join(str(error) for _, error in results.error)[:200] if results.error else ""
            raise FetchFailed(f"Photos did not download it{': ' + why if why else ''}")
        return exported[0]


def load_fetcher(spec: str, library: Path | None) -> OriginalFetcher:
    """`module:callable`, called with the library path: a fetcher of your own (tests use stand-ins)."""
    module_name, _, name = spec.partition(":")
    factory: Callable[[Path | None], OriginalFetcher] = getattr(importlib.import_module(module_name), name)
    return factory(library)


def parse_size(text: str) -> int:
    """`5GB`, `500MB`, `750M`, `1048576` → bytes."""
    found = SIZE.fullmatch(text.strip().upper().replace(" ", ""))
    if found is None or found.group(2) not in UNITS:
        raise ValueError(f"unknown size unit in {text!r}; use a number with B, KB, MB or GB")
    return int(float(found.group(1)) * UNITS[found.group(2)])


class Staging:
    """The staging folder: one sub-folder per asset in flight, a byte budget, 10% disk kept free."""

    def __init__(self, root: Path, max_bytes: int = DEFAULT_STAGING_MAX) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.used = 0
        self._room = threading.Condition()

    def clean(self) -> None:
        """Remove whatever a killed run left behind (only this agent uses the folder)."""
        shutil.rmtree(self.root, ignore_errors=True)
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        with self._room:
            self.used = 0

    def new_slot(self) -> Path:
        slot = self.root / uuid.uuid4().hex
        slot.mkdir(mode=0o700)
        return slot

    def why_never(self, size: int) -> str | None:
        """Why a file of `size` bytes cannot be staged even with the folder empty (None: it can)."""
        if size > self.max_bytes:
            return f"larger than the staging budget ({size} > {self.max_bytes} bytes, see --staging-max)"
        if not self._disk_keeps_free(size):
            return "not enough free disk to stage it (10% of the disk is kept free)"
        return None

    def _disk_keeps_free(self, size: int) -> bool:
        usage = shutil.disk_usage(self.root)
        return usage.free - size >= MIN_FREE_RATIO * usage.total

    def reserve(self, size: int, stop: threading.Event) -> str | None:
        """Wait until `size` more bytes fit the budget and the disk, and take them.

        Returns None once taken, else why not (stopped, or it cannot fit even when empty).
        """
        with self._room:
            while not stop.is_set():
                if self.used + size <= self.max_bytes and self._disk_keeps_free(size):
                    self.used += size
                    return None
                if self.used == 0:
                    return self.why_never(size) or "no room to stage it"
                self._room.wait(0.5)
            return "stopped"

    def adjust(self, expected: int, actual: int) -> None:
        """The fetched file's real size replaces the size expected when it was reserved."""
        with self._room:
            self.used = max(self.used - expected + actual, 0)
            self._room.notify_all()

    def release(self, slot: Path, size: int) -> None:
        """Delete a staged copy (after success and after failure alike) and free its bytes."""
        shutil.rmtree(slot, ignore_errors=True)
        with self._room:
            self.used = max(self.used - size, 0)
            self._room.notify_all()
