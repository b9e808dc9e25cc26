"""Any directory tree of photos and videos: albums are sub-folders, ids come from paths.

Files that belong together are one photo: `IMG_1.JPG` + `IMG_1.CR2` (the RAW of a RAW+JPEG
pair), `IMG_1.HEIC` + `IMG_1.MOV` (a Live Photo). Facts come from the file: EXIF (time,
place, camera) and the XMP packet or IPTC record (title, caption, keywords).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

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
RAW_SUFFIXES = {".dng", ".cr2", ".cr3", ".nef", ".arw", ".raf", ".orf", ".rw2"}
VIDEO_SUFFIXES = {".mov", ".mp4", ".m4v", ".avi", ".mts", ".3gp"}
EXIF_IFD, GPS_IFD = 0x8769, 0x8825
DATETIME_ORIGINAL, OFFSET_TIME_ORIGINAL, DATETIME = 0x9003, 0x9011, 0x0132
MAKE, MODEL, LENS_MODEL, ISO, F_NUMBER, EXPOSURE_TIME, FOCAL_LENGTH = (
    0x010F, 0x0110, 0xA434, 0x8827, 0x829D, 0x829A, 0x920A,
)  # fmt: skip
XMP_TAG = 700  # TIFF's XMP packet
FACTS_VERSION = "facts-2"  # cached facts older than this are read again
MAX_XMP = 1024 * 1024
NS = {
    "dc": "http://purl.org/dc/elements/1.1/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "xml": "http://www.w3.org/XML/1998/namespace",
}


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
            camera = camera_facts(exif, details)
            if camera:
                facts["camera"] = camera
            facts.update(iptc_facts(image))
            facts.update(xmp_facts(_xmp_packet(image)))  # XMP wins over IPTC, as in Lightroom
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


def _clean(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    text = str(value).strip("\x00 ") if value is not None else ""
    return text or None


def _float(value: Any) -> float | None:
    if isinstance(value, tuple):
        value = value[0] if value else None
    try:
        number = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return number if number == number and number not in (float("inf"), float("-inf")) else None


def camera_facts(exif: Any, details: Any) -> dict[str, Any] | None:
    """make, model, lens, ISO, aperture (f-number), shutter (seconds), focal length (mm)."""
    iso = _float(details.get(ISO))
    camera = {
        "make": _clean(exif.get(MAKE)),
        "model": _clean(exif.get(MODEL)),
        "lens": _clean(details.get(LENS_MODEL)),
        "iso": int(iso) if iso is not None else None,
        "aperture": _float(details.get(F_NUMBER)),
        "shutter": _float(details.get(EXPOSURE_TIME)),
        "focal_length": _float(details.get(FOCAL_LENGTH)),
    }
    return camera if any(value is not None for value in camera.values()) else None


def _xmp_packet(image: Any) -> bytes | None:
    packet = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp")
    if packet is None and hasattr(image, "tag_v2"):
        packet = image.tag_v2.get(XMP_TAG)
    if isinstance(packet, str):
        packet = packet.encode()
    return packet if isinstance(packet, bytes) and len(packet) <= MAX_XMP else None


def xmp_facts(packet: bytes | None) -> dict[str, Any]:
    """dc:title, dc:description and dc:subject of an XMP packet (stdlib XML parser)."""
    if not packet:
        return {}
    start, end = packet.find(b"<x:xmpmeta"), packet.rfind(b"</x:xmpmeta>")
    body = packet[start : end + len(b"</x:xmpmeta>")] if start >= 0 and end > start else packet
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return {}
    facts: dict[str, Any] = {}
    for field, name in (("title", "title"), ("description", "description")):
        text = _alt_text(root, name)
        if text:
            facts[field] = text
    keywords = [_clean(li.text) for li in root.iterfind(".//dc:subject//rdf:li", NS)]
    if any(keywords):
        facts["keywords"] = sorted({k for k in keywords if k})
    return facts


def _alt_text(root: ElementTree.Element, name: str) -> str | None:
    """An rdf:Alt's x-default (else first) entry, e.g. dc:title."""
    items = list(root.iterfind(f".//dc:{name}//rdf:li", NS))
    lang = f"{{{NS['xml']}}}lang"
    chosen = next((li for li in items if li.get(lang) == "x-default"), items[0] if items else None)
    return _clean(chosen.text) if chosen is not None else None


def iptc_facts(image: Any) -> dict[str, Any]:
    """IPTC-IIM object name (title), caption and keywords, where the file has them."""
    from PIL import IptcImagePlugin

    try:
        info = IptcImagePlugin.getiptcinfo(image) or {}
    except (OSError, ValueError, SyntaxError, IndexError, KeyError):
        return {}
    facts: dict[str, Any] = {}
    title, caption, keywords = info.get((2, 5)), info.get((2, 120)), info.get((2, 25))
    if _clean(title):
        facts["title"] = _clean(title)
    if _clean(caption):
        facts["description"] = _clean(caption)
    if keywords:
        values = keywords if isinstance(keywords, list) else [keywords]
        facts["keywords"] = sorted({k for k in (_clean(v) for v in values) if k})
    return facts


def raw_pairs(names: list[str]) -> dict[str, str]:
    """Photo name → RAW name for RAW+JPEG pairs (IMG_1.JPG beside IMG_1.CR2)."""
    raws: dict[str, str] = {}
    for name in names:
        stem, suffix = os.path.splitext(name)
        if suffix.lower() in RAW_SUFFIXES:
            raws.setdefault(stem.lower(), name)
    pairs = {}
    for name in names:
        stem, suffix = os.path.splitext(name)
        lowered = suffix.lower()
        if lowered in PHOTO_SUFFIXES and lowered not in RAW_SUFFIXES and stem.lower() in raws:
            pairs[name] = raws[stem.lower()]
    return pairs


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
            paired, raws = live_pairs(media), raw_pairs(media)
            for name in media:
                if name in paired.values() or name in raws.values():
                    continue  # the video of a Live Photo, the RAW of a pair: they travel with their photo
                relative = (relative_dir / name).as_posix()
                try:
                    asset = self._asset(Path(directory) / name, relative)
                except OSError as exc:
                    snapshot.problems.append(f"{relative}: unreadable ({type(exc).__name__})")
                    continue
                if name in paired:
                    asset.media_type = "live"
                    asset.live_video = Path(directory) / paired[name]
                    asset.subtypes.append("live")
                if name in raws:
                    asset.raw = Path(directory) / raws[name]
                if name in raws or os.path.splitext(name)[1].lower() in RAW_SUFFIXES:
                    asset.subtypes.append("raw")
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
            title=facts.get("title"),
            description=facts.get("description"),
            keywords=list(facts.get("keywords") or []),
            camera=facts.get("camera"),
        )

    def _facts(self, path: Path, relative: str, size: int, mtime_ns: int) -> dict[str, Any]:
        if path.suffix.lower() in VIDEO_SUFFIXES:
            return {}
        if self.cache is not None:
            cached = self.cache.get_facts(str(path), size, mtime_ns)
            if cached is not None and FACTS_VERSION in cached:
                return dict(cached[FACTS_VERSION])
        facts = read_image_facts(path)
        if self.cache is not None:
            self.cache.put_facts(str(path), size, mtime_ns, {FACTS_VERSION: facts})
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
