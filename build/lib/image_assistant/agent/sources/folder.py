"""Any directory tree of photos and videos: albums are sub-folders, ids come from paths."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from image_assistant.agent.sources.base import (
    AlbumEntry,
    Asset,
    FactsCache,
    Snapshot,
    Source,
    content_type_for,
    derived_uuid,
    plain_name,
)

PHOTO_SUFFIXES = {
    ".jpg", ".jpeg", ".heic", ".heif", ".png", ".tif", ".tiff", ".gif", ".webp", ".avif",
    ".dng", ".cr2", ".cr3", ".nef", ".arw", ".raf", ".orf", ".rw2",
}  # fmt: skip
VIDEO_SUFFIXES = {".mov", ".mp4", ".m4v", ".avi", ".mts", ".3gp"}
EXIF_IFD, GPS_IFD = 0x8769, 0x8825
DATETIME_ORIGINAL, OFFSET_TIME_ORIGINAL, DATETIME = 0x9003, 0x9011, 0x0132


def _is_media(name: str) -> bool:
    suffix = os.path.splitext(name)[1].lower()
    return suffix in PHOTO_SUFFIXES or suffix in VIDEO_SUFFIXES


def _degrees(value: Any, ref: Any) -> float | None:
    try:
        d, m, s = (float(x) for x in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    result = d + m / 60 + s / 3600
    return -result if str(ref).upper() in ("S", "W") else result


def _offset(text: Any) -> timezone | None:
    if not isinstance(text, str) or len(text) != 6 or text[0] not in "+-":
        return None
    try:
        hours, minutes = int(text[1:3]), int(text[4:6])
    except ValueError:
        return None
    sign = -1 if text[0] == "-" else 1
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def read_image_facts(path: Path) -> dict[str, Any]:
    """Width, height, capture time (with its offset when EXIF has one) and GPS, via Pillow."""
    from PIL import Image, UnidentifiedImageError

    facts: dict[str, Any] = {}
    try:
        with Image.open(path) as image:
            facts["width"], facts["height"] = image.size
            exif = image.getexif()
            details = exif.get_ifd(EXIF_IFD)
            taken = details.get(DATETIME_ORIGINAL) or exif.get(DATETIME)
            gps = exif.get_ifd(GPS_IFD)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return facts
    if isinstance(taken, str):
        try:
            moment = datetime.strptime(taken.strip("\x00 "), "%Y:%m:%d %H:%M:%S")
            zone = _offset(details.get(OFFSET_TIME_ORIGINAL))
            facts["taken_at"] = moment.replace(tzinfo=zone).isoformat() if zone else moment.isoformat()
        except ValueError:
            pass
    if gps:
        lat, lng = _degrees(gps.get(2), gps.get(1)), _degrees(gps.get(4), gps.get(3))
        if lat is not None and lng is not None and -90 <= lat <= 90 and -180 <= lng <= 180:
            facts["location"] = [lat, lng]
    return facts


def live_pairs(names: list[str]) -> dict[str, str]:
    """Photo name → video name for Live Photos as exported (IMG_1234.HEIC beside IMG_1234.MOV)."""
    videos = {os.path.splitext(n)[0].lower(): n for n in names if n.lower().endswith(".mov")}
    pairs = {}
    for name in names:
        stem, suffix = os.path.splitext(name)
        if suffix.lower() in PHOTO_SUFFIXES and stem.lower() in videos:
            pairs[name] = videos[stem.lower()]
    return pairs


class FolderSource(Source):
    """Files under `root`; each sub-folder holding media is an album, nested folders its path."""

    def __init__(self, root: Path, cache: FactsCache | None = None) -> None:
        self.root = root.resolve()
        self.cache = cache

    def describe(self) -> str:
        return f"folder {self.root}"

    def read(self) -> Snapshot:
        if not self.root.is_dir():
            raise FileNotFoundError(f"{self.root} is not a folder")
        snapshot = Snapshot()
        members: dict[str, list[str]] = {}
        for directory, subdirs, files in os.walk(self.root):
            subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
            relative_dir = Path(directory).relative_to(self.root)
            media = sorted(name for name in files if not name.startswith(".") and _is_media(name))
            paired = live_pairs(media)
            for name in media:
                if name in paired.values():
                    continue  # the video half of a Live Photo travels with its photo
                relative = (relative_dir / name).as_posix()
                try:
                    asset = self._asset(Path(directory) / name, relative)
                except OSError as exc:
                    snapshot.problems.append(f"{relative}: unreadable ({type(exc).__name__})")
                    continue
                if name in paired:
                    asset.media_type = "live"
                    asset.live_video = Path(directory) / paired[name]
                snapshot.assets.append(asset)
                if relative_dir.parts:
                    members.setdefault(relative_dir.as_posix(), []).append(asset.photos_uuid)
        snapshot.albums = [self._album(folder, uuids) for folder, uuids in sorted(members.items())]
        return snapshot

    def _key(self, relative: str) -> str:
        # The root's own name is part of the id so two cards with DCIM/IMG_0001.JPG stay apart.
        return f"{self.root.name}/{relative}"

    def _asset(self, path: Path, relative: str) -> Asset:
        stat = path.stat()
        facts = self._facts(path, relative, stat.st_size, stat.st_mtime_ns)
        taken = datetime.fromisoformat(facts["taken_at"]) if facts.get("taken_at") else None
        if taken is None:
            taken = datetime.fromtimestamp(stat.st_mtime, UTC)
        lat, lng = facts.get("location") or (None, None)
        is_video = path.suffix.lower() in VIDEO_SUFFIXES
        return Asset(
            photos_uuid=derived_uuid(f"folder-file:{self._key(relative)}"),
            filename=plain_name(path.name),
            content_type=content_type_for(path.name),
            media_type="video" if is_video else "photo",
            width=facts.get("width"),
            height=facts.get("height"),
            taken_at=taken,
            location_lat=lat,
            location_lng=lng,
            original=path,
        )

    def _facts(self, path: Path, relative: str, size: int, mtime_ns: int) -> dict[str, Any]:
        if path.suffix.lower() in VIDEO_SUFFIXES:
            return {}
        if self.cache is not None:
            cached = self.cache.get_facts(str(path), size, mtime_ns)
            if cached is not None and "exif" in cached:
                return dict(cached["exif"])
        facts = read_image_facts(path)
        if self.cache is not None:
            self.cache.put_facts(str(path), size, mtime_ns, {"exif": facts})
        return facts

    def _album(self, folder: str, uuids: list[str]) -> AlbumEntry:
        parts = folder.split("/")
        return AlbumEntry(
            photos_uuid=derived_uuid(f"folder-album:{self._key(folder)}"),
            title=parts[-1],
            album_type="user",
            folder_path=parts[:-1],
            photos=uuids,
        )
