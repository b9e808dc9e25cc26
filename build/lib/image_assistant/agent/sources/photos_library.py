"""Apple Photos libraries, read (never written) with osxphotos."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from image_assistant.agent.sources.base import (
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
        for info in db.photos():
            try:
                snapshot.assets.append(self._asset(info))
            except Exception as exc:  # one odd asset never stops the pass
                snapshot.problems.append(f"{getattr(info, 'uuid', '?')}: unreadable ({type(exc).__name__})")
        known = {a.photos_uuid for a in snapshot.assets}
        snapshot.albums = self._albums(db, known)
        return snapshot

    def _asset(self, info: Any) -> Asset:
        lat, lng = info.location
        media = "live" if info.live_photo else "video" if info.ismovie else "photo"
        filename = plain_name(info.original_filename or info.filename)
        edited = _existing(info.path_edited) if info.hasadjustments else None
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
            original=None if info.ismissing else _existing(info.path),
            edited=edited,
            live_video=_existing(info.path_live_photo) if info.live_photo else None,
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
