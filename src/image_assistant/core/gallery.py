"""What a signed-in user browses: albums, the timeline, one photo; always their own."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, Subquery, and_, case, func, or_, select, tuple_
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import aliased

from image_assistant.core import cursor, files, months, search
from image_assistant.core.files import FileKind
from image_assistant.db.models import Album, AlbumPhoto, Photo, PhotoFile, PlaybackRendition
from image_assistant.errors import BadRequest, NotFound
from image_assistant.store.keys import AVIF_SIZES, THUMBNAIL_SIZES, thumbnail_key

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
    "thumbnail_avif",
    "created_at",
    "updated_at",
    "burst_id",
    "deleted_at",
)
_frame = aliased(Photo, name="frame")
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
_EDITED_FILE = aliased(PhotoFile, name="edited_file")
_EDITED = and_(_EDITED_FILE.photo_id == Photo.id, _EDITED_FILE.kind == FileKind.EDITED.value)
_HAS_EDIT = and_(_EDITED_FILE.object_key.is_not(None), _EDITED_FILE.declared_sha256.is_not(None))
_VIDEO_PLAYBACK = aliased(PlaybackRendition, name="video_playback")
_LIVE_PLAYBACK = aliased(PlaybackRendition, name="live_playback")
_EDIT_RENDITION = aliased(PlaybackRendition, name="edit_rendition")
_EDIT_FILE = aliased(PhotoFile, name="edit_file")


def _edit_rendition_state(kind: FileKind) -> Any:
    """The state of the rendition of the photo's edited `kind` while that edit is declared and
    stored (as `playback` picks it); asked only of the rows that may have one (a scalar subquery
    in a CASE, so a page of still photos joins nothing more)."""
    return (
        select(_EDIT_RENDITION.status)
        .join(
            _EDIT_FILE, and_(_EDIT_FILE.photo_id == _EDIT_RENDITION.photo_id, _EDIT_FILE.kind == kind.value)
        )
        .where(
            _EDIT_RENDITION.photo_id == Photo.id,
            _EDIT_RENDITION.kind == kind.value,
            _EDIT_FILE.object_key.is_not(None),
            _EDIT_FILE.declared_sha256.is_not(None),
        )
        .scalar_subquery()
    )


# The states of the renditions `playback` answers: the edit's while there is one, else the original's.
_PLAYBACK = case(
    (
        and_(Photo.media_type == "video", _HAS_EDIT),
        func.coalesce(_edit_rendition_state(FileKind.EDITED), _VIDEO_PLAYBACK.status),
    ),
    else_=_VIDEO_PLAYBACK.status,
)
_LIVE = case(
    (
        _LIVE_PLAYBACK.status.is_not(None),
        func.coalesce(_edit_rendition_state(FileKind.EDITED_LIVE_VIDEO), _LIVE_PLAYBACK.status),
    ),
    else_=None,
)
LISTED = (
    *(Photo.__table__.c[name] for name in LISTED_NAMES),
    PhotoFile.object_key.is_not(None).label("has_original"),
    _HAS_EDIT.label("has_edit"),
    _PLAYBACK.label("playback"),
    _LIVE.label("live_playback"),
    _BURST_COUNT,
)
# Extra names of a LISTED row, after LISTED_NAMES.
LISTED_EXTRA = ("has_original", "has_edit", "playback", "live_playback", "burst_count")


def _listed(page: Subquery | None = None) -> Select[Any]:
    """Photos as listed, each with whether its original and an edit are stored and the state of
    the playback renditions of the version shown (outer joins on primary keys); only the photos
    of `page` (ids) when given. The page comes first in the FROM list, so that the join order
    stays right whatever is joined (PostgreSQL keeps the written order past join_collapse_limit,
    8 tables: every photo of the user would be joined before the page)."""
    listed = select(*LISTED)
    listed = (
        listed.select_from(Photo)
        if page is None
        else listed.select_from(page).join(Photo, Photo.id == page.c.id)
    )
    return (
        listed.outerjoin(PhotoFile, _ORIGINAL)
        .outerjoin(_EDITED_FILE, _EDITED)
        .outerjoin(_VIDEO_PLAYBACK, _rendition(_VIDEO_PLAYBACK, FileKind.ORIGINAL))
        .outerjoin(_LIVE_PLAYBACK, _rendition(_LIVE_PLAYBACK, FileKind.LIVE_VIDEO))
    )


def _rendition(rendition: Any, kind: FileKind) -> ColumnElement[bool]:
    return and_(rendition.photo_id == Photo.id, rendition.kind == kind.value)


@dataclass
class Page:
    photos: list[Any]  # rows of LISTED
    next_cursor: str | None
    prev_cursor: str | None = None


def visible(user_id: uuid.UUID) -> list[ColumnElement[bool]]:
    return [Photo.user_id == user_id, Photo.deleted_at.is_(None), Photo.is_hidden.is_(False)]


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


class View(StrEnum):
    """Which photos a listing shows."""

    LIBRARY = "library"  # neither hidden nor deleted; a burst is one item (its key frame)
    HIDDEN = "hidden"  # the Hidden album: hidden, not deleted
    DELETED = "deleted"  # removed from the library (kept, restorable), hidden or not
    BURST = "burst"  # the visible frames of one burst (`burst_id`)


@dataclass(frozen=True)
class Filters:
    """What narrows the timeline; every field unset shows the whole library."""

    album_id: uuid.UUID | None = None
    favorite: bool | None = None
    media_type: str | None = None
    taken_from: datetime | None = None  # inclusive
    taken_to: datetime | None = None  # exclusive
    query: str | None = None  # words, see core/search.py
    subtype: str | None = None  # screenshot, selfie, panorama, live, raw, burst…
    person: str | None = None
    place: str | None = None  # a place's name
    view: View = View.LIBRARY
    burst_id: str | None = None


def _in_view(user_id: uuid.UUID, filters: Filters) -> list[ColumnElement[bool]]:
    """The photos of the filters' view; an album shows its own photos, every frame of a burst."""
    view = filters.view
    if view is View.HIDDEN:
        return [Photo.user_id == user_id, Photo.deleted_at.is_(None), Photo.is_hidden.is_(True)]
    if view is View.DELETED:
        return [Photo.user_id == user_id, Photo.deleted_at.is_not(None)]
    if view is View.BURST:
        return [*visible(user_id), Photo.burst_id == filters.burst_id]
    if filters.album_id is not None:
        return visible(user_id)
    return [*visible(user_id), or_(Photo.burst_id.is_(None), Photo.id == _BURST_LEAD)]


def _filtered(db: DbSession, user_id: uuid.UUID, filters: Filters, query: Select[Any]) -> Select[Any]:
    query = query.where(*_in_view(user_id, filters))
    if filters.album_id is not None:
        album = get_album(db, user_id=user_id, album_id=filters.album_id)
        query = query.join(AlbumPhoto, AlbumPhoto.photo_id == Photo.id).where(AlbumPhoto.album_id == album.id)
    if filters.favorite is not None:
        # `is_favorite IS true`: the predicate of the partial index ix_photos_favorites (0022).
        query = query.where(Photo.is_favorite.is_(filters.favorite))
    if filters.media_type is not None:
        query = query.where(Photo.media_type == filters.media_type)
    if filters.taken_from is not None:
        query = query.where(Photo.sort_at >= filters.taken_from)
    if filters.taken_to is not None:
        query = query.where(Photo.sort_at < filters.taken_to)
    if filters.query:
        matching = search.matches(db, filters.query)
        if matching is not None:
            query = query.where(matching)
    if filters.subtype:
        query = query.where(search.has_subtype(db, filters.subtype))
    if filters.person:
        query = query.where(search.has_person(db, filters.person))
    if filters.place:
        query = query.where(search.at_place(filters.place))
    return query


def _position(row: Any) -> str:
    return cursor.encode({"t": row.sort_at.isoformat(), "i": str(row.id)})


def timeline(
    db: DbSession,
    *,
    user_id: uuid.UUID,
    filters: Filters | None = None,
    after: str | None = None,
    before: datetime | None = None,
    newer: bool = False,
    limit: int,
) -> Page:
    """Newest first by capture time, keyset-paginated on (sort_at, id).

    `after` (a cursor) goes on to older photos; with `newer` it gives the page of photos just
    newer than the cursor instead (still newest first), for a grid that was opened further
    down. `before` starts the listing at a moment (a jump of the timeline scrubber). Pages that
    may have newer photos above them carry `prev_cursor`.
    """
    # The page is chosen over the photos alone, then listed: a search that sorts thousands of
    # matches joins the listed columns to the page's rows only.
    page = _filtered(db, user_id, filters or Filters(), select(Photo.id))
    if after:
        at, last_id = cursor.timeline_position(after)
        position = tuple_(Photo.sort_at, Photo.id)
        page = page.where(position > tuple_(at, last_id) if newer else position < tuple_(at, last_id))
    if before is not None:
        page = page.where(Photo.sort_at < before)
    order = (Photo.sort_at.asc(), Photo.id.asc()) if newer else (Photo.sort_at.desc(), Photo.id.desc())
    chosen = page.order_by(*order).limit(limit + 1).subquery("page")
    query = _listed(chosen).order_by(*order)
    photos = list(db.execute(query))
    more = len(photos) > limit
    photos = photos[:limit]
    if newer:
        photos.reverse()
        return Page(photos, None, _position(photos[0]) if more and photos else None)
    next_cursor = _position(photos[-1]) if more and photos else None
    started_inside = bool(after) or before is not None
    return Page(photos, next_cursor, _position(photos[0]) if started_inside and photos else None)


def month_counts(
    db: DbSession, *, user_id: uuid.UUID, filters: Filters | None = None
) -> list[tuple[str, int]]:
    """How many photos each month (UTC, "YYYY-MM") holds, newest first, for the timeline scrubber:
    the whole library's as stored (core/months.py), a filtered listing's counted over its photos."""
    filters = filters or Filters()
    if filters == Filters():
        return months.stored(db, user_id=user_id)
    if db.get_bind().dialect.name == "postgresql":
        month = func.to_char(func.timezone("UTC", Photo.sort_at), "YYYY-MM")
    else:
        month = func.substr(Photo.sort_at, 1, 7)
    counted = select(month.label("month"), func.count().label("n")).select_from(Photo)
    query = _filtered(db, user_id, filters, counted)
    rows = db.execute(query.group_by(month).order_by(month.desc()))
    return [(str(m), int(n)) for m, n in rows]


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
        changes, before = months.Changes(user_id), months.facts(photo)
        photo.deleted_at = None
        photo.updated_at = datetime.now(UTC)
        db.flush()
        changes.photo(before, months.facts(photo))
        changes.save(db)
        db.commit()
    return photo_detail(db, user_id=user_id, photo_id=photo_id)


def thumbnail_of(photo: Photo, *, size: str, version: str) -> str:
    """The key of a photo's thumbnail: of the version shown (`current`: the edit when there is
    one) or of the `original`. Raises NotFound while it is not made."""
    if size not in THUMBNAIL_SIZES:
        raise BadRequest(f"size must be one of {', '.join(THUMBNAIL_SIZES)}", code="invalid_size")
    key: str | None
    if size in AVIF_SIZES:
        key = thumbnail_key(photo.user_id, photo.photos_uuid, size) if photo.thumbnail_avif else None
    else:
        key = getattr(photo, f"thumbnail_{size}_key")
    if key is not None and version == "original" and photo.thumbnail_of_edit:
        key = thumbnail_key(photo.user_id, photo.photos_uuid, size, of_original=True)
    if key is None:
        raise NotFound(
            f"the {size} thumbnail is not ready (status: {photo.thumbnail_status})",
            code="thumbnail_not_ready",
        )
    return key


@dataclass(frozen=True)
class PlaybackSource:
    """What a browser plays for a photo's video: an object, its type, and a poster image."""

    key: str
    content_type: str
    poster_key: str | None
    edited: bool = False  # the edited version's (else the original's)


PLAYABLE_KINDS = (FileKind.ORIGINAL, FileKind.LIVE_VIDEO)
# The edited version of each playable kind: shown instead of it while the edit is declared and stored.
EDITED_KINDS = {FileKind.ORIGINAL: FileKind.EDITED, FileKind.LIVE_VIDEO: FileKind.EDITED_LIVE_VIDEO}
PLAYBACK_VERSIONS = ("current", "original")


def playback(
    db: DbSession, *, user_id: uuid.UUID, photo_id: uuid.UUID, kind: FileKind, version: str = "current"
) -> PlaybackSource:
    """The playback rendition of a photo's video (`original`) or Live video (`live_video`): of the
    version shown (`current`: the edited one when there is one) or of the `original`; the video
    itself when browsers play it as it is. Raises NotFound with the state otherwise: `none` (no
    such video), `pending`, `processing` or `failed`."""
    if kind not in PLAYABLE_KINDS:
        raise BadRequest("kind must be original or live_video", code="invalid_kind")
    if version not in PLAYBACK_VERSIONS:
        raise BadRequest("version must be current or original", code="invalid_version")
    photo = get_photo(db, user_id=user_id, photo_id=photo_id)
    poster = _poster(photo, version)
    edited = _edited_video(db, photo, kind) if version == "current" else None
    # An edit stored before edits had renditions has no row: its original plays, as it did then.
    row = db.get(PlaybackRendition, (photo.id, edited.value)) if edited else None
    if row is None:
        edited = None
        row = db.get(PlaybackRendition, (photo.id, kind.value))
    source_kind = edited or kind
    if row is None:
        raise _not_playable("pending" if _has_video(db, photo, kind) else "none", None)
    if row.status == "completed" and row.object_key is not None:
        return PlaybackSource(row.object_key, "video/mp4", poster, edited is not None)
    if row.status == "not_needed":
        source = db.get(PhotoFile, (photo.id, source_kind.value))
        if source is not None and source.object_key is not None:  # an MP4 (transcode.playable_as_is)
            return PlaybackSource(source.object_key, "video/mp4", poster, edited is not None)
        raise _not_playable("none", None)
    raise _not_playable(row.status, row.error if row.status == "failed" else None)


def _edited_video(db: DbSession, photo: Photo, kind: FileKind) -> FileKind | None:
    """The edited kind of `kind` when the photo's edited version of it is a stored, declared video
    (as `files.shown_file` picks the edit for thumbnails); None to play the original."""
    edited = EDITED_KINDS[kind]
    row = db.get(PhotoFile, (photo.id, edited.value))
    if row is None or row.object_key is None or row.declared_sha256 is None:
        return None
    if kind is FileKind.ORIGINAL and photo.media_type != "video":
        return None  # a photo's edit is a still image: there is nothing to play
    return edited


def _poster(photo: Photo, version: str) -> str | None:
    try:
        return thumbnail_of(photo, size="large", version=version)
    except NotFound:
        return None


def _has_video(db: DbSession, photo: Photo, kind: FileKind) -> bool:
    """Whether the photo is a video (for `original`), or declares a Live video, stored or to come."""
    if kind is FileKind.ORIGINAL:
        return photo.media_type == "video"
    source = db.get(PhotoFile, (photo.id, kind.value))
    return source is not None and (source.object_key is not None or source.declared_sha256 is not None)


def _not_playable(state: str, error: str | None) -> NotFound:
    details: dict[str, str] = {"state": state}
    if error:
        details["error"] = error
    if state == "none":
        return NotFound("this photo has no such video on the server", code="no_video", details=details)
    if state == "failed":
        return NotFound("the playback version could not be made", code="playback_failed", details=details)
    return NotFound(
        f"the playback version is not ready (state: {state})", code="playback_not_ready", details=details
    )


def photo_albums(db: DbSession, *, user_id: uuid.UUID, photo_id: uuid.UUID) -> list[Album]:
    """The albums a photo of the user's is in, in the order of the album list."""
    get_photo(db, user_id=user_id, photo_id=photo_id)
    return list(
        db.scalars(
            select(Album)
            .join(AlbumPhoto, AlbumPhoto.album_id == Album.id)
            .where(AlbumPhoto.photo_id == photo_id, Album.user_id == user_id)
            .order_by(Album.position, Album.title)
        )
    )
