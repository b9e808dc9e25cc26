"""What a signed-in user browses: albums, the timeline, one photo; always their own."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select, tuple_
from sqlalchemy.orm import Session as DbSession

from image_assistant.core import cursor
from image_assistant.core.files import FileKind
from image_assistant.db.models import Album, AlbumPhoto, Photo, PhotoFile
from image_assistant.errors import NotFound

# What a page of photos shows (api.shapes.photo_json), read as plain rows: no ORM object per photo.
LISTED_NAMES = (
    "id",
    "photos_uuid",
    "filename",
    "content_type",
    "media_type",
    "width",
    "height",
    "file_size",
    "taken_at",
    "taken_tz_offset",
    "timezone",
    "sort_at",
    "location_lat",
    "location_lng",
    "is_favorite",
    "is_hidden",
    "thumbnail_status",
    "thumbnail_error",
    "thumbnail_small_key",
    "thumbnail_medium_key",
    "thumbnail_large_key",
    "created_at",
    "updated_at",
)
_ORIGINAL = and_(PhotoFile.photo_id == Photo.id, PhotoFile.kind == FileKind.ORIGINAL.value)
LISTED = (
    *(Photo.__table__.c[name] for name in LISTED_NAMES),
    PhotoFile.object_key.is_not(None).label("has_original"),
)


def _listed() -> Select[Any]:
    """Photos as listed, each with whether its original is stored (one join on a primary key)."""
    return select(*LISTED).select_from(Photo).outerjoin(PhotoFile, _ORIGINAL)


@dataclass
class Page:
    photos: list[Any]  # rows of LISTED
    next_cursor: str | None


def visible(user_id: uuid.UUID) -> list[ColumnElement[bool]]:
    return [Photo.user_id == user_id, Photo.deleted_at.is_(None), Photo.is_hidden.is_(False)]


def list_albums(db: DbSession, *, user_id: uuid.UUID) -> list[tuple[Album, Photo | None]]:
    """Albums in the order the device sent them, each with its first photo as cover."""
    albums = list(
        db.scalars(select(Album).where(Album.user_id == user_id).order_by(Album.position, Album.title))
    )
    first = (
        select(AlbumPhoto.album_id, func.min(AlbumPhoto.position).label("position"))
        .join(Album, Album.id == AlbumPhoto.album_id)
        .where(Album.user_id == user_id)
        .group_by(AlbumPhoto.album_id)
        .subquery()
    )
    covers = {
        album_id: photo
        for album_id, photo in db.execute(
            select(AlbumPhoto.album_id, Photo)
            .join(
                first,
                and_(first.c.album_id == AlbumPhoto.album_id, first.c.position == AlbumPhoto.position),
            )
            .join(Photo, Photo.id == AlbumPhoto.photo_id)
        )
    }
    return [(album, covers.get(album.id)) for album in albums]


def get_album(db: DbSession, *, user_id: uuid.UUID, album_id: uuid.UUID) -> Album:
    album = db.get(Album, album_id)
    if album is None or album.user_id != user_id:
        raise NotFound("no such album", code="album_not_found")
    return album


def album_photos(db: DbSession, *, album: Album, after: str | None, limit: int) -> Page:
    """A page of an album's photos in the album's own order."""
    query = (
        _listed()
        .add_columns(AlbumPhoto.position)
        .join(AlbumPhoto, AlbumPhoto.photo_id == Photo.id)
        .where(AlbumPhoto.album_id == album.id, *visible(album.user_id))
        .order_by(AlbumPhoto.position)
        .limit(limit + 1)
    )
    if after:
        query = query.where(AlbumPhoto.position > cursor.album_position(after))
    rows = list(db.execute(query))
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = cursor.encode({"p": rows[-1].position}) if more and rows else None
    return Page(rows, next_cursor)


def timeline(
    db: DbSession, *, user_id: uuid.UUID, album_id: uuid.UUID | None, after: str | None, limit: int
) -> Page:
    """Newest first by capture time, keyset-paginated on (sort_at, id)."""
    query = _listed().where(*visible(user_id))
    if album_id is not None:
        album = get_album(db, user_id=user_id, album_id=album_id)
        query = query.join(AlbumPhoto, AlbumPhoto.photo_id == Photo.id).where(AlbumPhoto.album_id == album.id)
    if after:
        at, last_id = cursor.timeline_position(after)
        query = query.where(tuple_(Photo.sort_at, Photo.id) < tuple_(at, last_id))
    query = query.order_by(Photo.sort_at.desc(), Photo.id.desc()).limit(limit + 1)
    photos = list(db.execute(query))
    more = len(photos) > limit
    photos = photos[:limit]
    next_cursor = None
    if more and photos:
        last = photos[-1]
        next_cursor = cursor.encode({"t": last.sort_at.isoformat(), "i": str(last.id)})
    return Page(photos, next_cursor)


def photo_row(db: DbSession, *, user_id: uuid.UUID, photo_id: uuid.UUID) -> Any:
    """One photo as the timeline lists it (a row of LISTED)."""
    row = db.execute(
        _listed().where(Photo.id == photo_id, Photo.user_id == user_id, Photo.deleted_at.is_(None))
    ).first()
    if row is None:
        raise NotFound("no such photo", code="photo_not_found")
    return row


def get_photo(db: DbSession, *, user_id: uuid.UUID, photo_id: uuid.UUID) -> Photo:
    photo = db.get(Photo, photo_id)
    if photo is None or photo.user_id != user_id or photo.deleted_at is not None:
        raise NotFound("no such photo", code="photo_not_found")
    return photo
