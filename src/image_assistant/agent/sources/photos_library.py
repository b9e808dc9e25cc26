"""Apple Photos libraries, read (never written) with osxphotos.

Every file of an asset (original, current rendering, the RAW of a RAW+JPEG pair, Live video
and its edited rendering), every frame of a burst (osxphotos' `photos()` leaves out the frames
nobody picked: they come from `burst_photos`), and the facts people typed or Photos worked out.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from image_assistant.agent.sources.base import (
    CAMERA_FIELDS,
    AlbumEntry,
    Asset,
    Snapshot,
    Source,
    content_type_for,
    derived_uuid,
    plain_name,
)

UTI_TYPES = {
    "public.jpeg": "image/jpeg",
    "public.heic": "image/heic",
    "public.heif": "image/heif",
    "public.png": "image/png",
    "public.tiff": "image/tiff",
    "com.compuserve.gif": "image/gif",
    "org.webmproject.webp": "image/webp",
    "com.adobe.raw-image": "image/x-adobe-dng",
    "com.canon.cr2-raw-image": "image/x-canon-cr2",
    "com.canon.cr3-raw-image": "image/x-canon-cr3",
    "com.nikon.raw-image": "image/x-nikon-nef",
    "com.sony.arw-raw-image": "image/x-sony-arw",
    "com.apple.quicktime-movie": "video/quicktime",
    "public.mpeg-4": "video/mp4",
    "com.apple.m4v-video": "video/x-m4v",
}


def system_library() -> Path | None:
    """The system Photos library on macOS, if osxphotos can find it."""
    try:
        from osxphotos.utils import get_system_library_path  # type: ignore[import-untyped]  # no type hints
    except ImportError:
        return None
    found = get_system_library_path()
    return Path(found) if found else None


SUBTYPES = (
    ("screenshot", "screenshot"),
    ("selfie", "selfie"),
    ("panorama", "panorama"),
    ("portrait", "portrait"),
    ("slow_mo", "slow_mo"),
    ("time_lapse", "time_lapse"),
    ("live", "live_photo"),
    ("burst", "burst"),
)
UNNAMED_PERSON = "_UNKNOWN_"


def _text(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def place_of(info: Any) -> dict[str, str | None] | None:
    """Photos' reverse geocoding: the place's name, its city and country."""
    place = info.place
    if place is None or not _text(place.name):
        return None
    address, names = place.address, place.names
    city = _text(getattr(address, "city", None)) or _first(getattr(names, "city", None))
    country = _text(getattr(address, "country", None)) or _first(getattr(names, "country", None))
    return {"name": _text(place.name), "city": city, "country": country}


def _first(values: Any) -> str | None:
    return _text(values[0]) if values else None


def camera_of(info: Any) -> dict[str, Any] | None:
    """The EXIF Photos keeps in its database (the file itself may be in iCloud)."""
    exif = info.exif_info
    if exif is None:
        return None
    camera = {
        "make": _text(exif.camera_make),
        "model": _text(exif.camera_model),
        "lens": _text(exif.lens_model),
        "iso": int(exif.iso) if exif.iso is not None else None,
        "aperture": _number(exif.aperture),
        "shutter": _number(exif.shutter_speed),
        "focal_length": _number(exif.focal_length),
    }
    return camera if any(camera[name] is not None for name in CAMERA_FIELDS) else None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and value == value else None


def subtypes_of(info: Any) -> list[str]:
    found = [name for name, attribute in SUBTYPES if getattr(info, attribute, False)]
    if info.israw or info.has_raw:
        found.append("raw")
    return found


def _existing(path: str | None) -> Path | None:
    if not path:
        return None
    candidate = Path(path)
    return candidate if candidate.is_file() else None


class PhotosLibrarySource(Source):
    """A `.photoslibrary` bundle: assets not in the trash, user and shared albums, Favorites."""

    def __init__(self, library: Path) -> None:
        self.library = library

    def describe(self) -> str:
        return f"Photos library {self.library}"

    def read(self) -> Snapshot:
        try:
            import osxphotos  # type: ignore[import-untyped]  # osxphotos ships no type hints
        except ImportError as exc:
            raise RuntimeError(
                "reading a Photos library needs osxphotos: pip install 'image-assistant[agent]'"
            ) from exc

        logging.getLogger("osxphotos").setLevel(logging.ERROR)
        db = osxphotos.PhotosDB(dbfile=str(self.library))
        snapshot = Snapshot()
        for info in self._every_photo(db):
            try:
                snapshot.assets.append(self._asset(info))
            except Exception as exc:  # one odd asset never stops the pass
                snapshot.problems.append(f"{getattr(info, 'uuid', '?')}: unreadable ({type(exc).__name__})")
        known = {a.photos_uuid for a in snapshot.assets}
        snapshot.albums = self._albums(db, known)
        return snapshot

    def _every_photo(self, db: Any) -> list[Any]:
        """The library's photos plus the burst frames nobody picked (not in the trash)."""
        photos = list(db.photos())
        seen = {info.uuid for info in photos}
        for info in list(photos):
            if not info.burst:
                continue
            for frame in info.burst_photos:
                if frame.uuid not in seen and not frame.intrash:
                    seen.add(frame.uuid)
                    photos.append(frame)
        return photos

    def _asset(self, info: Any) -> Asset:
        lat, lng = info.location
        media = "live" if info.live_photo else "video" if info.ismovie else "photo"
        filename = plain_name(info.original_filename or info.filename)
        edited = _existing(info.path_edited) if info.hasadjustments else None
        original = None if info.ismissing else _existing(info.path)
        live_edit = info.live_photo and info.hasadjustments
        edited_live = _existing(info.path_edited_live_photo) if live_edit else None
        return Asset(
            photos_uuid=str(info.uuid).upper(),
            filename=filename,
            content_type=UTI_TYPES.get(info.uti or "") or content_type_for(filename),
            media_type=media,
            width=info.width or None,
            height=info.height or None,
            taken_at=info.date,
            timezone=info.tzname,
            location_lat=lat,
            location_lng=lng,
            is_favorite=bool(info.favorite),
            is_hidden=bool(info.hidden),
            original=original,
            edited=edited,
            raw=_existing(info.path_raw) if info.has_raw and not info.ismissing else None,
            live_video=_existing(info.path_live_photo) if info.live_photo else None,
            edited_live_video=edited_live,
            title=_text(info.title),
            description=_text(info.description),
            keywords=sorted({str(k) for k in info.keywords or []}),
            persons=sorted({str(p) for p in info.persons or [] if p and p != UNNAMED_PERSON}),
            place=place_of(info),
            camera=camera_of(info),
            subtypes=subtypes_of(info),
            burst_id=_text(info._info.get("burstUUID")) if info.burst else None,  # no public name
            burst_key=bool(info.burst and (info.burst_key or info.burst_selected)),
            original_in_cloud=original is None,
            original_size=int(info.original_filesize or 0) or None,
        )

    def _albums(self, db: Any, known: set[str]) -> list[AlbumEntry]:
        albums: list[AlbumEntry] = []
        for album in db.album_info:
            albums.append(self._album(album, "user", known))
        for album in db.album_info_shared:
            albums.append(self._album(album, "shared", known))
        favorites = [p.uuid.upper() for p in db.photos() if p.favorite]
        albums.append(
            AlbumEntry(
                photos_uuid=derived_uuid(f"photos-favorites:{self.library.name}"),
                title="Favorites",
                album_type="favorites",
                photos=[u for u in favorites if u in known],
            )
        )
        return albums

    def _album(self, album: Any, album_type: str, known: set[str]) -> AlbumEntry:
        members = [str(p.uuid).upper() for p in album.photos]
        return AlbumEntry(
            photos_uuid=str(album.uuid).upper(),
            title=album.title or "",
            album_type=album_type,
            folder_path=[str(name) for name in album.folder_names or []],
            photos=[u for u in dict.fromkeys(members) if u in known],
        )
