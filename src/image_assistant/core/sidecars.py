"""A photo described in one JSON document: its facts, album paths and files with their SHA-256.

The same document is written beside each original in the store (`<key>.json`, so the bucket
alone can be understood without the database) and beside each exported original. Writing is
off the ingest path: a sweep (in the thumbnail worker, every SIDECAR_SWEEP_EVERY) renders the
documents of photos changed since their sidecar was written, and every FULL_SWEEP_EVERY rounds
those of every photo; it writes those whose SHA-256 differs from the one `photo_sidecars`
records, so a change of facts, albums or files reaches the store within a period or two.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import aliased, sessionmaker

from image_assistant.core.files import FileKind
from image_assistant.db.models import Album, AlbumPhoto, Photo, PhotoFile, PhotoSidecar
from image_assistant.store.base import ObjectStore

FULL_SWEEP_EVERY = 12  # rounds: with the default 5m period, every photo is looked at hourly
_KIND_ORDER = {kind.value: index for index, kind in enumerate(FileKind)}
FORMAT = "image-assistant/photo-sidecar/1"
# One encoder each, made once: json.dumps with any argument builds a new encoder per call.
_encode_key = json.JSONEncoder().encode
_encode_value = json.JSONEncoder(sort_keys=True, ensure_ascii=False).encode
_encode_string: Callable[[str], str] = json.encoder.encode_basestring
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
    """Stable bytes: the same description always gives the same document. One key per line,
    each value on its line (json's C encoder; `indent` would fall back to its slow Python one)."""
    lines = [_line_start(key) + _encode_one(value) for key, value in sorted(description.items())]
    return ("{\n" + ",\n".join(lines) + "\n}\n").encode()


@functools.cache
def _line_start(key: str) -> str:
    return f"  {_encode_key(key)}: "


def _encode_one(value: Any) -> str:
    """What `_encode_value` gives, without its per-call cost for the common plain values."""
    kind = type(value)
    if kind is str:
        return _encode_string(value)
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return int.__repr__(value)
    return _encode_value(value)


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


def refresh_batch(
    db: DbSession, store: ObjectStore, *, after: uuid.UUID | None, limit: int, changed_only: bool = False
) -> tuple[int, uuid.UUID | None]:
    """Write the sidecars of up to `limit` photos (by id, after `after`) whose document changed.

    `changed_only` looks only at photos without a sidecar or changed since it was written (the
    photo row, one of its files or one of its albums is newer); a full pass also catches what
    leaves no such trace (a photo swapped for another in an album, an album deleted).
    Returns how many were written and the id to continue after (None at the end).
    """
    started = datetime.now(UTC)
    query = (
        select(Photo, PhotoFile.object_key)
        .join(PhotoFile, and_(PhotoFile.photo_id == Photo.id, PhotoFile.kind == FileKind.ORIGINAL.value))
        .where(PhotoFile.object_key.is_not(None))
        .order_by(Photo.id)
        .limit(limit)
    )
    if after is not None:
        query = query.where(Photo.id > after)
    if changed_only:
        query = query.outerjoin(PhotoSidecar, PhotoSidecar.photo_id == Photo.id).where(
            _changed_since_written()
        )
    rows = [(photo, key) for photo, key in db.execute(query) if key is not None]
    if not rows:
        return 0, None
    photos = [photo for photo, _ in rows]
    documents = describe_many(db, photos)
    ids = [photo.id for photo in photos]
    written = {
        row.photo_id: row for row in db.scalars(select(PhotoSidecar).where(PhotoSidecar.photo_id.in_(ids)))
    }
    count = 0
    for photo, original_key in rows:
        document = render(documents[photo.id])
        digest = hashlib.sha256(document).hexdigest()
        known = written.get(photo.id)
        key = sidecar_key(original_key)
        if known is not None and known.sha256 == digest and known.object_key == key:
            known.written_at = started  # looked at: not a candidate again until it changes
            continue
        store.put(key, io.BytesIO(document), content_type="application/json")
        if known is None:
            db.add(PhotoSidecar(photo_id=photo.id, object_key=key, sha256=digest, written_at=started))
        else:
            if known.object_key != key:
                store.delete(known.object_key)  # the original moved to another extension
            known.object_key, known.sha256, known.written_at = key, digest, started
        count += 1
    db.commit()
    return count, photos[-1].id if len(rows) == limit else None


def _changed_since_written() -> ColumnElement[bool]:
    member_file = aliased(PhotoFile)
    written_at = PhotoSidecar.written_at
    return or_(
        PhotoSidecar.photo_id.is_(None),
        Photo.updated_at > written_at,
        exists().where(member_file.photo_id == Photo.id, member_file.updated_at > written_at),
        exists()
        .where(AlbumPhoto.photo_id == Photo.id, Album.id == AlbumPhoto.album_id)
        .where(Album.updated_at > written_at),
    )


def refresh_all(
    sessions: sessionmaker[DbSession], store: ObjectStore, *, batch: int = 500, changed_only: bool = False
) -> int:
    """One pass over every photo with a stored original (or only the changed ones); returns the
    sidecars written."""
    total, after = 0, None
    while True:
        with sessions() as db:
            written, after = refresh_batch(db, store, after=after, limit=batch, changed_only=changed_only)
        total += written
        if after is None:
            return total
