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

# Every kind of file an asset may have; the server declares the same (core/files.py FileKind).
FILE_KINDS = ("original", "edited", "raw", "live_video", "edited_live_video")
CAMERA_FIELDS = ("make", "model", "lens", "iso", "aperture", "shutter", "focal_length")

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


TITLE_MAX, DESCRIPTION_MAX, NAME_MAX, NAMES_MAX = 1024, 65_536, 256, 1000
CAMERA_LIMITS = {"iso": 10_000_000, "aperture": 1000, "shutter": 100_000, "focal_length": 100_000}


def bounded(text: str | None, limit: int) -> str | None:
    """Text without NUL characters, at most `limit` characters; None when nothing is left."""
    if text is None:
        return None
    cleaned = str(text).replace("\x00", "").strip()[:limit]
    return cleaned or None


def names(values: list[str]) -> list[str]:
    kept = (bounded(value, NAME_MAX) for value in values)
    return sorted({value for value in kept if value})[:NAMES_MAX]


def camera_fields(camera: dict[str, Any] | None) -> dict[str, Any] | None:
    """The camera facts with out-of-range numbers (broken EXIF) dropped."""
    if not camera:
        return None
    result: dict[str, Any] = {}
    for name in CAMERA_FIELDS:
        value = camera.get(name)
        if name not in CAMERA_LIMITS:
            result[name] = bounded(value, NAME_MAX)
        elif isinstance(value, int | float) and 0 <= value <= CAMERA_LIMITS[name]:
            result[name] = int(value) if name == "iso" else float(value)
        else:
            result[name] = None
    return result if any(v is not None for v in result.values()) else None


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
    raw: Path | None = None  # the RAW of a RAW+JPEG pair (a RAW-only photo's RAW is its original)
    live_video: Path | None = None
    edited_live_video: Path | None = None
    # Facts people typed or Photos worked out (the issue-12 contract's names).
    title: str | None = None
    description: str | None = None
    keywords: list[str] = field(default_factory=list)
    persons: list[str] = field(default_factory=list)
    place: dict[str, str | None] | None = None  # {"name", "city", "country"}
    camera: dict[str, Any] | None = None  # make, model, lens, iso, aperture, shutter, focal_length
    subtypes: list[str] = field(default_factory=list)
    burst_id: str | None = None
    burst_key: bool = False
    # The original is known but not on this disk (iCloud): an OriginalFetcher may bring it.
    original_in_cloud: bool = False
    original_size: int | None = None

    def binaries(self) -> dict[str, Path]:
        """The binaries on disk by kind (see FILE_KINDS)."""
        found = {
            "original": self.original,
            "edited": self.edited,
            "raw": self.raw,
            "live_video": self.live_video,
            "edited_live_video": self.edited_live_video,
        }
        return {kind: path for kind, path in found.items() if path is not None}

    def facts(self) -> dict[str, Any]:
        """The facts part of the wire record (always all of them, so a cleared fact clears),
        cut to the sizes the server takes so one odd file never fails its whole batch."""
        place = None
        if self.place and bounded(self.place.get("name"), NAME_MAX):
            place = {key: bounded(self.place.get(key), NAME_MAX) for key in ("name", "city", "country")}
        return {
            "title": bounded(self.title, TITLE_MAX),
            "description": bounded(self.description, DESCRIPTION_MAX),
            "keywords": names(self.keywords),
            "persons": names(self.persons),
            "place": place,
            "camera": camera_fields(self.camera),
            "subtypes": list(dict.fromkeys(self.subtypes)),
            "burst_id": bounded(self.burst_id, 64),
            "burst_key": self.burst_key,
        }


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
