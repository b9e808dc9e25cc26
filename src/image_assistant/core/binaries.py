"""A photo's binaries beyond the original (edited version, Live Photo video), and deletions."""

from __future__ import annotations

import mimetypes
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import BinaryIO

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session as DbSession

from image_assistant.core.records import PhotoRecord
from image_assistant.db.models import Photo, PhotoBinary
from image_assistant.store.base import ObjectStore
from image_assistant.store.keys import binary_key

KINDS = ("original", "edited", "live_video")
EXTRA_KINDS = ("edited", "live_video")


def declare(
    db: DbSession,
    *,
    user_id: uuid.UUID,
    records: Sequence[PhotoRecord],
    photo_ids: dict[str, uuid.UUID],
    new_photos: set[str],
) -> None:
    """Keep what each record says about its edited version and Live video (checksum, name).

    `photo_ids` maps each record's photos_uuid to its row (as ingest found or made it);
    photos created in this batch have no binaries yet, so they are not looked up.
    """
    records = [r for r in records if r.photos_uuid not in new_photos or _declares_extras(r)]
    if not records:
        return  # new photos declaring no edit nor Live video: nothing to keep
    known = [photo_ids[r.photos_uuid] for r in records if r.photos_uuid not in new_photos]
    rows = {
        (b.photo_id, b.kind): b
        for b in (db.scalars(select(PhotoBinary).where(PhotoBinary.photo_id.in_(known))) if known else [])
    }
    for record in records:
        photo_id = photo_ids.get(record.photos_uuid)
        if photo_id is None:
            continue
        for kind in EXTRA_KINDS:
            sha256 = getattr(record, f"{kind}_sha256")
            row = rows.get((photo_id, kind))
            if sha256 is None:
                if row is not None:
                    row.declared_sha256 = None  # the edit was reverted: nothing more to fetch
                continue
            if row is None:
                row = PhotoBinary(photo_id=photo_id, kind=kind)
                db.add(row)
            row.declared_sha256 = sha256
            row.filename = getattr(record, f"{kind}_filename") or record.filename
    db.flush()


def _declares_extras(record: PhotoRecord) -> bool:
    return record.edited_sha256 is not None or record.live_video_sha256 is not None


def pending_items(
    db: DbSession, *, user_id: uuid.UUID, after: str | None, limit: int
) -> tuple[list[tuple[str, str]], str | None]:
    """(photos_uuid, kind) the server lacks for up to `limit` photos after `after`; and the cursor."""
    live = [Photo.user_id == user_id, Photo.deleted_at.is_(None)]
    if after:
        live.append(Photo.photos_uuid > after)
    originals = select(Photo.photos_uuid).where(
        *live, or_(Photo.original_key.is_(None), Photo.original_sha256 != Photo.checksum_sha256)
    )
    extras = (
        select(Photo.photos_uuid, PhotoBinary.kind)
        .join(PhotoBinary, PhotoBinary.photo_id == Photo.id)
        .where(
            *live,
            PhotoBinary.declared_sha256.is_not(None),
            or_(
                PhotoBinary.stored_sha256.is_(None), PhotoBinary.stored_sha256 != PhotoBinary.declared_sha256
            ),
        )
    )
    items = [(u, "original") for u in db.scalars(originals.order_by(Photo.photos_uuid).limit(limit))]
    items += [(u, k) for u, k in db.execute(extras.order_by(Photo.photos_uuid).limit(limit * 2)).tuples()]
    photos = sorted({u for u, _ in items})
    cursor = photos[limit - 1] if len(photos) >= limit else None
    kept = set(photos[:limit])
    ordered = sorted((i for i in items if i[0] in kept), key=lambda i: (i[0], KINDS.index(i[1])))
    return ordered, cursor


def find_binary(db: DbSession, *, photo: Photo, kind: str) -> PhotoBinary | None:
    return db.get(PhotoBinary, (photo.id, kind))


def content_type_of(filename: str) -> str:
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


def store_binary(store: ObjectStore, *, photo: Photo, kind: str, filename: str, body: BinaryIO) -> str:
    """Write an edited version or Live video under its key; the reader enforces the checksum."""
    key = binary_key(kind, photo.user_id, photo.photos_uuid, filename)
    store.put(key, body, content_type=content_type_of(filename))
    return key


def record_binary(
    db: DbSession, *, photo: Photo, kind: str, filename: str, key: str, sha256: str, size: int
) -> str | None:
    """Point the photo at its new binary; returns a replaced key (another extension) to delete."""
    row = find_binary(db, photo=photo, kind=kind)
    if row is None:
        row = PhotoBinary(photo_id=photo.id, kind=kind, filename=filename, declared_sha256=sha256)
        db.add(row)
    replaced = row.object_key if row.object_key not in (None, key) else None
    row.object_key = key
    row.stored_sha256 = sha256
    row.size = size
    if row.declared_sha256 is None:
        row.declared_sha256 = sha256
    db.flush()
    return replaced


def mark_deleted(db: DbSession, *, user_id: uuid.UUID, photos_uuids: Sequence[str]) -> int:
    """Hide photos deleted on the device; their rows and objects stay (nothing is destroyed)."""
    result = db.execute(
        update(Photo)
        .where(
            Photo.user_id == user_id, Photo.photos_uuid.in_(list(photos_uuids)), Photo.deleted_at.is_(None)
        )
        .values(deleted_at=datetime.now(UTC))
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
