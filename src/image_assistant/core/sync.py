"""What devices send: photo metadata, originals, albums; each call leaves a sync log."""

from __future__ import annotations

import functools
import operator
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, BinaryIO

import psycopg
from psycopg import sql
from sqlalchemy import (
    ColumnElement,
    any_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session as DbSession

from image_assistant.core.devices import DeviceRef
from image_assistant.core.records import AlbumSync, PhotoRecord
from image_assistant.db.models import Album, AlbumPhoto, Device, Photo, SyncLog
from image_assistant.errors import NotFound, Unprocessable
from image_assistant.store.base import ObjectStore
from image_assistant.store.keys import original_key

RECORD_FIELDS = (
    "filename",
    "content_type",
    "media_type",
    "width",
    "height",
    "file_size",
    "taken_at",
    "location_lat",
    "location_lng",
    "is_favorite",
    "is_hidden",
    "checksum_sha256",
    "timezone",
)


@dataclass
class PhotoResult:
    photos_uuid: str
    status: str  # created | updated | unchanged
    needs_upload: bool
    id: uuid.UUID


@dataclass
class IngestResult:
    results: list[PhotoResult] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)


def _offset_minutes(taken_at: datetime | None) -> int | None:
    if taken_at is None or taken_at.utcoffset() is None:
        return None
    offset = taken_at.utcoffset()
    return None if offset is None else int(offset.total_seconds() // 60)


_RECORD_VALUES = operator.itemgetter(*RECORD_FIELDS)


def _values(record: PhotoRecord) -> dict[str, Any]:
    values = dict(zip(RECORD_FIELDS, _RECORD_VALUES(vars(record)), strict=True))
    taken_at = record.taken_at
    values["taken_tz_offset"] = _offset_minutes(taken_at)
    if taken_at is not None:
        values["taken_at"] = taken_at.astimezone(UTC)
    return values


def _differs(row: Mapping[str, Any], values: dict[str, Any]) -> bool:
    if row["deleted_at"] is not None:
        return True
    for name, value in values.items():
        if name == "checksum_sha256" and value is None:
            continue
        if row[name] != value:
            return True
    return False


_photos = Photo.__table__.c
# What ingest compares and answers with, read as plain rows: no ORM object per photo.
_KNOWN_PHOTO_COLUMNS = (
    _photos.photos_uuid,
    _photos.id,
    _photos.created_at,
    _photos.deleted_at,
    _photos.original_key,
    _photos.original_sha256,
    _photos.taken_tz_offset,
    *(_photos[name] for name in RECORD_FIELDS),
)
_UPDATE_PHOTO = update(Photo.__table__).where(_photos.id == bindparam("photo_id"))


def ingest_photos(db: DbSession, *, device: DeviceRef, records: Sequence[PhotoRecord]) -> IngestResult:
    """Create or update photo rows by (owner, photos_uuid); identical records are unchanged."""
    uuids = [r.photos_uuid for r in records]
    if len(set(uuids)) != len(uuids):
        raise Unprocessable("a batch names the same photos_uuid twice", code="duplicate_photos_uuid")
    connection = db.connection()
    existing = {
        row.photos_uuid: row._mapping
        for row in connection.execute(
            select(*_KNOWN_PHOTO_COLUMNS).where(
                _photos.user_id == device.user_id, _one_of(db, _photos.photos_uuid, uuids)
            )
        )
    }
    now = datetime.now(UTC)
    result = IngestResult()
    new_rows: list[dict[str, Any]] = []
    changed_rows: list[dict[str, Any]] = []
    for record in records:
        values = _values(record)
        known = existing.get(record.photos_uuid)
        if known is None:
            row = _new_photo_row(device, record.photos_uuid, values, now)
            new_rows.append(row)
            result.results.append(PhotoResult(record.photos_uuid, "created", True, row["id"]))
            continue
        if _differs(known, values):
            changed_rows.append(_changed_photo_row(known, values, now))
            status, current = "updated", {**known, **changed_rows[-1]}
        else:
            status, current = "unchanged", known
        result.results.append(PhotoResult(record.photos_uuid, status, needs_upload(current), known["id"]))
    if new_rows:
        _insert_photos(db, new_rows)
    if changed_rows:
        connection.execute(_UPDATE_PHOTO, changed_rows)
        db.expire_all()  # a Photo loaded earlier in this session must not keep the old values
    return result


def needs_upload(row: Mapping[str, Any]) -> bool:
    """Whether the server lacks this photo's original (or holds an older one)."""
    if row["original_key"] is None:
        return True
    checksum = row["checksum_sha256"]
    return checksum is not None and checksum != row["original_sha256"]


def _new_photo_row(
    device: DeviceRef, photos_uuid: str, values: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """A photos row for one COPY / executemany (new rows skip the ORM's unit of work)."""
    return {
        "id": uuid.uuid4(),
        "user_id": device.user_id,
        "device_id": device.id,
        "photos_uuid": photos_uuid,
        "sort_at": values["taken_at"] or now,
        "created_at": now,
        "updated_at": now,
        "thumbnail_status": "pending",
        "thumbnail_attempts": 0,
        **values,
    }


def _changed_photo_row(known: Mapping[str, Any], values: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The parameters of one UPDATE for a photo whose metadata changed (or that came back)."""
    if values["checksum_sha256"] is None:
        values["checksum_sha256"] = known["checksum_sha256"]  # a record without one keeps ours
    return {
        **values,
        "photo_id": known["id"],
        "sort_at": values["taken_at"] or known["created_at"],
        "deleted_at": None,
        "updated_at": now,
    }


def _one_of(db: DbSession, column: Any, values: list[str]) -> ColumnElement[bool]:
    """`column IN (...)`; on PostgreSQL `= ANY(string_to_array(...))`: one short statement
    psycopg parses once, with one text parameter (dumping a list as an array costs more than
    the query), when no value holds a comma (validated photos_uuids never do)."""
    if db.get_bind().dialect.name == "postgresql" and not any("," in value for value in values):
        return column == any_(func.string_to_array(bindparam("values", ",".join(values)), ","))
    return column.in_(values)


def _insert_photos(db: DbSession, rows: list[dict[str, Any]]) -> None:
    """New photo rows in one round trip: a binary COPY on PostgreSQL (a fifth of the server's
    cost of one INSERT per row, see bench/ingest.py), one executemany on SQLite."""
    connection = db.connection()
    if connection.dialect.name != "postgresql":
        connection.execute(insert(Photo), rows)
        return
    columns = tuple(rows[0])
    statement = _copy_statement(columns)
    try:
        with connection.connection.driver_connection.cursor() as cursor:
            types = _photo_column_types(cursor, columns)
            with cursor.copy(statement) as copy:
                copy.set_types(types)
                for row in rows:
                    copy.write_row([row[name] for name in columns])
    except psycopg.Error as exc:
        # As SQLAlchemy would raise it: a photo created meanwhile by a concurrent batch is an
        # IntegrityError (409, retry), a lost connection an OperationalError (503).
        raise DBAPIError.instance("COPY photos", None, exc, psycopg.Error) from exc


@functools.cache
def _copy_statement(columns: tuple[str, ...]) -> str:
    """The COPY for these columns, composed once (quoting names costs as much as the rows)."""
    names = sql.SQL(", ").join(map(sql.Identifier, columns))
    return sql.SQL("COPY photos ({}) FROM STDIN (FORMAT BINARY)").format(names).as_string()


_PHOTO_COLUMN_TYPES: dict[str, int] = {}


def _photo_column_types(cursor: Any, columns: Sequence[str]) -> list[int]:
    """The PostgreSQL type oid of each photos column (asked once per process)."""
    if not _PHOTO_COLUMN_TYPES:
        found = cursor.execute(
            "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = 'photos'::regclass AND attnum > 0"
        )
        _PHOTO_COLUMN_TYPES.update(found.fetchall())
    return [_PHOTO_COLUMN_TYPES[name] for name in columns]


def find_photo_or_none(db: DbSession, *, user_id: uuid.UUID, photos_uuid: str) -> Photo | None:
    return db.scalar(select(Photo).where(Photo.user_id == user_id, Photo.photos_uuid == photos_uuid))


def find_photo(db: DbSession, *, user_id: uuid.UUID, photos_uuid: str) -> Photo:
    photo = find_photo_or_none(db, user_id=user_id, photos_uuid=photos_uuid)
    if photo is None:
        raise NotFound("no photo with this photos_uuid; send its metadata first", code="photo_not_found")
    return photo


def store_original(store: ObjectStore, *, photo: Photo, body: BinaryIO) -> str:
    """Write the original under its key; the body's reader enforces checksum and length."""
    key = original_key(photo.user_id, photo.photos_uuid, photo.filename)
    store.put(key, body, content_type=photo.content_type)
    return key


def record_original(db: DbSession, *, photo: Photo, key: str, sha256: str, size: int) -> str | None:
    """Point the photo at its stored original; returns a replaced key to delete, if any.

    Its thumbnails are the caller's to queue (thumbnails.jobs.mark_queued, in the same commit).
    """
    replaced = photo.original_key if photo.original_key not in (None, key) else None
    photo.original_key = key
    photo.original_sha256 = sha256
    photo.checksum_sha256 = sha256
    photo.file_size = size
    return replaced


def pending_uploads(db: DbSession, *, user_id: uuid.UUID, after: str | None, limit: int) -> list[str]:
    """photos_uuids whose original the server lacks (or holds in an older version)."""
    query = (
        select(Photo.photos_uuid)
        .where(
            Photo.user_id == user_id,
            Photo.deleted_at.is_(None),
            or_(
                Photo.original_key.is_(None),
                Photo.original_sha256 != Photo.checksum_sha256,
            ),
        )
        .order_by(Photo.photos_uuid)
        .limit(limit)
    )
    if after:
        query = query.where(Photo.photos_uuid > after)
    return list(db.scalars(query))


@dataclass
class AlbumResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    missing_photos: list[str] = field(default_factory=list)


def sync_albums(db: DbSession, *, device: DeviceRef, payload: AlbumSync) -> AlbumResult:
    """Upsert the device's albums with their ordered membership; drop absent ones if complete."""
    uuids = [a.photos_uuid for a in payload.albums]
    if len(set(uuids)) != len(uuids):
        raise Unprocessable("the same album photos_uuid appears twice", code="duplicate_album")
    wanted = {p for a in payload.albums for p in a.photos}
    photo_ids = _photo_ids(db, device.user_id, wanted)
    existing = {a.photos_uuid: a for a in db.scalars(select(Album).where(Album.user_id == device.user_id))}
    result = AlbumResult(missing_photos=sorted(wanted - photo_ids.keys()))
    for position, record in enumerate(payload.albums):
        members = [photo_ids[p] for p in record.photos if p in photo_ids]
        album = existing.get(record.photos_uuid)
        if album is None:
            album = Album(user_id=device.user_id, photos_uuid=record.photos_uuid)
            db.add(album)
            result.created += 1
            changed = True
        else:
            changed = _album_changed(db, album, record, position, members)
            if changed:
                result.updated += 1
            else:
                result.unchanged += 1
        if changed:
            album.device_id = device.id
            album.title = record.title
            album.album_type = record.album_type
            album.folder_path = list(record.folder_path)
            album.position = position
            album.photo_count = len(members)
            db.flush()
            db.execute(delete(AlbumPhoto).where(AlbumPhoto.album_id == album.id))
            if members:
                db.execute(
                    insert(AlbumPhoto),
                    [{"album_id": album.id, "photo_id": pid, "position": i} for i, pid in enumerate(members)],
                )
    if payload.complete:
        stale = [a.id for key, a in existing.items() if key not in set(uuids) and a.device_id == device.id]
        if stale:
            db.execute(delete(Album).where(Album.id.in_(stale)))
            result.removed = len(stale)
    db.flush()
    return result


def _photo_ids(db: DbSession, user_id: uuid.UUID, uuids: set[str]) -> dict[str, uuid.UUID]:
    found: dict[str, uuid.UUID] = {}
    items = sorted(uuids)
    for start in range(0, len(items), 500):
        chunk = items[start : start + 500]
        rows = db.execute(
            select(Photo.photos_uuid, Photo.id).where(Photo.user_id == user_id, Photo.photos_uuid.in_(chunk))
        )
        found.update({u: i for u, i in rows})
    return found


def _album_changed(db: DbSession, album: Album, record: Any, position: int, members: list[uuid.UUID]) -> bool:
    if (
        album.title != record.title
        or album.album_type != record.album_type
        or list(album.folder_path or []) != list(record.folder_path)
        or album.position != position
    ):
        return True
    current = db.scalars(
        select(AlbumPhoto.photo_id).where(AlbumPhoto.album_id == album.id).order_by(AlbumPhoto.position)
    )
    return list(current) != members


_LOG_SYNC = insert(SyncLog.__table__)
_MARK_SYNCED = (
    update(Device.__table__)
    .where(Device.__table__.c.id == bindparam("device_id"))
    .values(last_sync_at=bindparam("completed_at"))
)


def log_sync(
    db: DbSession,
    *,
    device_id: uuid.UUID,
    sync_type: str,
    started_at: datetime,
    errors: Sequence[dict[str, Any]] = (),
    **counts: int,
) -> None:
    """One sync_logs row for a finished call, and the device marked as just synced."""
    completed_at = datetime.now(UTC)
    connection = db.connection()
    connection.execute(
        _LOG_SYNC,
        {
            "id": uuid.uuid4(),
            "device_id": device_id,
            "sync_type": sync_type,
            "started_at": started_at,
            "completed_at": completed_at,
            "errors": list(errors),
            "errors_count": len(errors),
            **counts,  # the counts not given take their column default, 0
        },
    )
    connection.execute(_MARK_SYNCED, {"device_id": device_id, "completed_at": completed_at})


def status_counts(db: DbSession, *, user_id: uuid.UUID, device_id: uuid.UUID | None) -> dict[str, Any]:
    """Totals and thumbnail states, for a user or one of their devices."""
    scope = [Photo.user_id == user_id, Photo.deleted_at.is_(None)]
    if device_id is not None:
        scope.append(Photo.device_id == device_id)
    thumbs = dict.fromkeys(("pending", "processing", "completed", "failed"), 0)
    stored = 0
    for status, count in db.execute(
        select(Photo.thumbnail_status, func.count())
        .where(*scope, Photo.original_key.is_not(None))
        .group_by(Photo.thumbnail_status)
    ):
        thumbs[status] = int(count)
        stored += int(count)
    total = int(db.scalar(select(func.count()).select_from(Photo).where(*scope)) or 0)
    pending = int(
        db.scalar(
            select(func.count())
            .select_from(Photo)
            .where(
                *scope,
                or_(Photo.original_key.is_(None), Photo.original_sha256 != Photo.checksum_sha256),
            )
        )
        or 0
    )
    album_scope = [Album.user_id == user_id]
    if device_id is not None:
        album_scope.append(Album.device_id == device_id)
    albums = int(db.scalar(select(func.count()).select_from(Album).where(*album_scope)) or 0)
    return {
        "photos": total,
        "albums": albums,
        "originals_stored": stored,
        "pending_uploads": pending,
        "thumbnails": thumbs,
    }


def recent_logs(
    db: DbSession, *, user_id: uuid.UUID, device_id: uuid.UUID | None, limit: int = 20
) -> list[SyncLog]:
    query = select(SyncLog).join(Device, Device.id == SyncLog.device_id).where(Device.user_id == user_id)
    if device_id is not None:
        query = query.where(SyncLog.device_id == device_id)
    return list(db.scalars(query.order_by(SyncLog.started_at.desc()).limit(limit)))
