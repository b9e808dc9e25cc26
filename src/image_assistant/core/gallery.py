"""What a signed-in user browses: albums, the timeline, one photo; always their own."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select, tuple_
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import aliased

from image_assistant.core import cursor, files
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
    "burst_id",
    "deleted_at",
)
_frame = aliased(Photo)
# The visible frames of the listed photo's burst (correlated with the outer Photo).
_SAME_BURST = (
    _frame.user_id == Photo.user_id,
    _frame.burst_id == Photo.burst_id,
    _frame.deleted_at.is_(None),
    _frame.is_hidden.is_(False),
)
# The frame a burst shows as in the library: a key frame, else the first; the earliest of those.
_BURST_LEAD = (
    select(_frame.id)
    .where(*_SAME_BURST)
    .order_by(_frame.burst_key.desc(), _frame.sort_at, _frame.id)
    .limit(1)
    .scalar_subquery()
)
_BURST_COUNT = case(
    (Photo.burst_id.is_(None), None),
    else_=select(func.count()).select_from(_frame).where(*_SAME_BURST).scalar_subquery(),
).label("burst_count")
_ORIGINAL = and_(PhotoFile.photo_id == Photo.id, PhotoFile.kind == FileKind.ORIGINAL.value)
LISTED = (
    *(Photo.__table__.c[name] for name in LISTED_NAMES),
    PhotoFile.object_key.is_not(None).label("has_original"),
    _BURST_COUNT,
)


def _listed() -> Select[Any]:
    """Photos as listed, each with whether its original is stored (one join on a primary key)."""
    return select(*LISTED).select_from(Photo).outerjoin(PhotoFile, _ORIGINAL)


@dataclass
class Page:
    photos: list[Any]  # rows of LISTED
    next_cursor: str | None


class View(StrEnum):
    """Which photos a listing shows."""

    LIBRARY = "library"  # neither hidden nor deleted; a burst is one item (its key frame)
    ALBUM = "album"  # neither hidden nor deleted, every frame of a burst (with album_id)
    HIDDEN = "hidden"  # the Hidden album: hidden, not deleted
    DELETED = "deleted"  # removed from the library (kept, restorable), hidden or not
    BURST = "burst"  # the visible frames of one burst, in capture order


def visible(user_id: uuid.UUID) -> list[ColumnElement[bool]]:
    return [Photo.user_id == user_id, Photo.deleted_at.is_(None), Photo.is_hidden.is_(False)]


def _in_view(user_id: uuid.UUID, view: View, burst_id: str | None) -> list[ColumnElement[bool]]:
    if view is View.HIDDEN:
        return [Photo.user_id == user_id, Photo.deleted_at.is_(None), Photo.is_hidden.is_(True)]
    if view is View.DELETED:
        return [Photo.user_id == user_id, Photo.deleted_at.is_not(None)]
    if view is View.BURST:
        return [*visible(user_id), Photo.burst_id == burst_id]
    if view is View.ALBUM:
        return visible(user_id)
    return [*visible(user_id), or_(Photo.burst_id.is_(None), Photo.id == _BURST_LEAD)]


@dataclass
class AlbumEntry:
    """An album as listed: its cover (first listed photo) and how many photos it lists."""

    album: Album
    cover: Photo | None
    photo_count: int


def list_albums(db: DbSession, *, user_id: uuid.UUID) -> list[AlbumEntry]:
    """Albums in the order the device sent them, each with its first photo as cover and the
    count of the photos its listing shows (hidden and deleted ones are not)."""
    albums = list(
        db.scalars(select(Album).where(Album.user_id == user_id).order_by(Album.position, Album.title))
    )
    listed = (
        select(
            AlbumPhoto.album_id,
            func.min(AlbumPhoto.position).label("position"),
            func.count().label("photo_count"),
        )
        .join(Album, Album.id == AlbumPhoto.album_id)
        .join(Photo, Photo.id == AlbumPhoto.photo_id)
        .where(Album.user_id == user_id, *visible(user_id))
        .group_by(AlbumPhoto.album_id)
        .subquery()
    )
    counts: dict[uuid.UUID, int] = {}
    covers: dict[uuid.UUID, Photo] = {}
    for album_id, count, photo in db.execute(
        select(listed.c.album_id, listed.c.photo_count, Photo)
        .select_from(listed)
        .join(
            AlbumPhoto,
            and_(AlbumPhoto.album_id == listed.c.album_id, AlbumPhoto.position == listed.c.position),
        )
        .join(Photo, Photo.id == AlbumPhoto.photo_id)
    ):
        counts[album_id], covers[album_id] = count, photo
    return [AlbumEntry(album, covers.get(album.id), counts.get(album.id, 0)) for album in albums]


def get_album(db: DbSession, *, user_id: uuid.UUID, album_id: uuid.UUID) -> Album:
    album = db.get(Album, album_id)
    if album is None or album.user_id != user_id:
        raise NotFound("no such album", code="album_not_found")
    return album


def album_photo_count(db: DbSession, *, album: Album) -> int:
    """How many photos the album's listing shows."""
    count = db.scalar(
        select(func.count())
        .select_from(AlbumPhoto)
        .join(Photo, Photo.id == AlbumPhoto.photo_id)
        .where(AlbumPhoto.album_id == album.id, *visible(album.user_id))
    )
    return int(count or 0)


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
    db: DbSession,
    *,
    user_id: uuid.UUID,
    album_id: uuid.UUID | None,
    after: str | None,
    limit: int,
    view: View = View.LIBRARY,
    burst_id: str | None = None,
) -> Page:
    """Newest first by capture time (a burst's frames oldest first), keyset-paginated on (sort_at, id)."""
    query = _listed().where(*_in_view(user_id, view, burst_id))
    if album_id is not None:
        album = get_album(db, user_id=user_id, album_id=album_id)
        query = query.join(AlbumPhoto, AlbumPhoto.photo_id == Photo.id).where(AlbumPhoto.album_id == album.id)
    forward = view is View.BURST
    if after:
        at, last_id = cursor.timeline_position(after)
        position, reached = tuple_(Photo.sort_at, Photo.id), tuple_(at, last_id)
        query = query.where(position > reached if forward else position < reached)
    order = (Photo.sort_at, Photo.id) if forward else (Photo.sort_at.desc(), Photo.id.desc())
    query = query.order_by(*order).limit(limit + 1)
    photos = list(db.execute(query))
    more = len(photos) > limit
    photos = photos[:limit]
    next_cursor = None
    if more and photos:
        last = photos[-1]
        next_cursor = cursor.encode({"t": last.sort_at.isoformat(), "i": str(last.id)})
    return Page(photos, next_cursor)


def photo_row(db: DbSession, *, user_id: uuid.UUID, photo_id: uuid.UUID) -> Any:
    """One photo as the timeline lists it (a row of LISTED), hidden or deleted ones too."""
    row = db.execute(_listed().where(Photo.id == photo_id, Photo.user_id == user_id)).first()
    if row is None:
        raise NotFound("no such photo", code="photo_not_found")
    return row


@dataclass
class PhotoDetail:
    """One photo with everything known of it: its listed row, facts and stored files."""

    row: Any  # a row of LISTED
    photo: Photo
    files: list[PhotoFile]


def photo_detail(db: DbSession, *, user_id: uuid.UUID, photo_id: uuid.UUID) -> PhotoDetail:
    row = photo_row(db, user_id=user_id, photo_id=photo_id)
    photo = db.get_one(Photo, photo_id)
    return PhotoDetail(row, photo, files.stored_files(db, photo_id=photo_id))


def get_photo(db: DbSession, *, user_id: uuid.UUID, photo_id: uuid.UUID) -> Photo:
    """The user's photo (hidden and deleted ones too: they are kept, viewed and downloaded)."""
    photo = db.get(Photo, photo_id)
    if photo is None or photo.user_id != user_id:
        raise NotFound("no such photo", code="photo_not_found")
    return photo


def restore(db: DbSession, *, user_id: uuid.UUID, photo_id: uuid.UUID) -> PhotoDetail:
    """Bring a photo removed from the library back into it (a photo not removed stays as it is)."""
    photo = get_photo(db, user_id=user_id, photo_id=photo_id)
    if photo.deleted_at is not None:
        photo.deleted_at = None
        photo.updated_at = datetime.now(UTC)
        db.commit()
    return photo_detail(db, user_id=user_id, photo_id=photo_id)
