"""The source port: what any photo source hands to the sync pass.

A source reads everything it holds into a `Snapshot`: assets (one per photo or
video, with the paths of the binaries that are on disk) and albums (ordered
membership by photos_uuid). It never writes into what it reads.
"""

from __future__ import annotations

import abc
import mimetypes
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

# A fixed namespace so ids derived from paths are the same on every run and machine.
AGENT_NAMESPACE = uuid.UUID("5b0f3f4e-8a57-4d8c-9d0e-6a3c2f1b7e10")

EXTRA_TYPES = {
    ".heic": "image/heic",
    ".heif": "image/heif",
    ".dng": "image/x-adobe-dng",
    ".cr2": "image/x-canon-cr2",
    ".cr3": "image/x-canon-cr3",
    ".nef": "image/x-nikon-nef",
    ".arw": "image/x-sony-arw",
    ".raf": "image/x-fuji-raf",
    ".orf": "image/x-olympus-orf",
    ".rw2": "image/x-panasonic-rw2",
    ".mov": "video/quicktime",
    ".mp4": "video/mp4",
    ".m4v": "video/x-m4v",
    ".webp": "image/webp",
    ".avif": "image/avif",
}


def content_type_for(filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    return EXTRA_TYPES.get(suffix) or mimetypes.guess_type(filename)[0] or "application/octet-stream"


def derived_uuid(text: str) -> str:
    """A stable, upper-case UUID for a name (a relative path, a synthetic album)."""
    return str(uuid.uuid5(AGENT_NAMESPACE, text)).upper()


def plain_name(filename: str) -> str:
    """A file name the server accepts: no path separators or NUL."""
    cleaned = "".join("_" if c in "/\\\x00" else c for c in filename).strip()
    return cleaned if cleaned not in ("", ".", "..") else "unnamed"


@dataclass
class Asset:
    """One photo or video as the source sees it now."""

    photos_uuid: str
    filename: str
    content_type: str
    media_type: str = "photo"  # photo | video | live
    width: int | None = None
    height: int | None = None
    taken_at: datetime | None = None
    timezone: str | None = None
    location_lat: float | None = None
    location_lng: float | None = None
    is_favorite: bool = False
    is_hidden: bool = False
    original: Path | None = None  # None: not on disk (e.g. only in iCloud)
    edited: Path | None = None
    live_video: Path | None = None

    def binaries(self) -> dict[str, Path]:
        """The binaries on disk by kind: original, edited, live_video."""
        found = {"original": self.original, "edited": self.edited, "live_video": self.live_video}
        return {kind: path for kind, path in found.items() if path is not None}


@dataclass
class AlbumEntry:
    photos_uuid: str
    title: str
    album_type: str = "user"  # user | smart | favorites | shared
    folder_path: list[str] = field(default_factory=list)
    photos: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "photos_uuid": self.photos_uuid,
            "title": self.title,
            "album_type": self.album_type,
            "folder_path": list(self.folder_path),
            "photos": list(self.photos),
        }


@dataclass
class Snapshot:
    assets: list[Asset] = field(default_factory=list)
    albums: list[AlbumEntry] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # ids and reasons, never content


class FactsCache(Protocol):
    """Remembers facts about a file by (path, size, mtime) so unchanged files are not re-read."""

    def get_facts(self, path: str, size: int, mtime_ns: int) -> dict[str, Any] | None: ...

    def put_facts(self, path: str, size: int, mtime_ns: int, facts: dict[str, Any]) -> None: ...


class Source(abc.ABC):
    """A place photos come from."""

    @abc.abstractmethod
    def describe(self) -> str:
        """A short human name for status output (the library or folder path)."""

    @abc.abstractmethod
    def read(self) -> Snapshot:
        """Everything the source holds now; one unreadable asset is a problem, not a failure."""
