"""A photo described in one JSON document: its facts, album paths and files with their SHA-256.

The same document is written beside each original in the store (`<key>.json`, so the bucket
alone can be understood without the database) and beside each exported original.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from image_assistant.core.files import FileKind
from image_assistant.db.models import Album, AlbumPhoto, Photo, PhotoFile

_KIND_ORDER = {kind.value: index for index, kind in enumerate(FileKind)}
FORMAT = "image-assistant/photo-sidecar/1"
SUFFIX = ".json"
# Facts of issue 12 (migration 0006); each is written when the photo row has it.
FACTS = (
    "title",
    "description",
    "keywords",
    "persons",
    "place",
    "camera",
    "subtypes",
    "is_hidden",
    "burst_id",
    "burst_key",
)


def sidecar_key(object_key: str) -> str:
    return object_key + SUFFIX


def album_path(album: Album) -> list[str]:
    return [*album.folder_path, album.title]


def describe(photo: Photo, *, albums: Iterable[list[str]], files: Iterable[PhotoFile]) -> dict[str, Any]:
    """The sidecar document of `photo`: plain JSON types only."""
    description: dict[str, Any] = {
        "format": FORMAT,
        "photos_uuid": photo.photos_uuid,
        "filename": photo.filename,
        "content_type": photo.content_type,
        "media_type": photo.media_type,
        "width": photo.width,
        "height": photo.height,
        "taken_at": _iso(photo.taken_at),
        "taken_tz_offset": photo.taken_tz_offset,
        "timezone": photo.timezone,
        "location": None
        if photo.location_lat is None or photo.location_lng is None
        else {"lat": photo.location_lat, "lng": photo.location_lng},
        "is_favorite": photo.is_favorite,
        "deleted_at": _iso(photo.deleted_at),
    }
    for name in FACTS:
        if hasattr(photo, name):
            description[name] = getattr(photo, name)
    description["albums"] = sorted(albums)
    description["files"] = [
        {
            "kind": row.kind,
            "filename": row.filename,
            "content_type": row.content_type,
            "size": row.size,
            "sha256": row.sha256,
        }
        for row in sorted(files, key=lambda r: _KIND_ORDER.get(r.kind, len(_KIND_ORDER)))
        if row.object_key is not None
    ]
    return description


def render(description: dict[str, Any]) -> bytes:
    """Stable bytes: the same description always gives the same document."""
    return (json.dumps(description, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def describe_many(db: DbSession, photos: list[Photo]) -> dict[uuid.UUID, dict[str, Any]]:
    """Sidecar documents of `photos`, with their albums and files read in two queries."""
    ids = [photo.id for photo in photos]
    albums: dict[uuid.UUID, list[list[str]]] = {photo_id: [] for photo_id in ids}
    files: dict[uuid.UUID, list[PhotoFile]] = {photo_id: [] for photo_id in ids}
    if ids:
        member = select(AlbumPhoto.photo_id, Album).join(Album, Album.id == AlbumPhoto.album_id)
        for photo_id, album in db.execute(member.where(AlbumPhoto.photo_id.in_(ids))):
            albums[photo_id].append(album_path(album))
        for row in db.scalars(select(PhotoFile).where(PhotoFile.photo_id.in_(ids))):
            files[row.photo_id].append(row)
    return {photo.id: describe(photo, albums=albums[photo.id], files=files[photo.id]) for photo in photos}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
