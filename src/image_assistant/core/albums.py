"""Album structures from devices: albums in their folders, with ordered membership."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session as DbSession

from image_assistant.core import search, synclog
from image_assistant.core.devices import DeviceRef
from image_assistant.core.records import AlbumRecord, AlbumSync, parse_json
from image_assistant.db.models import Album, AlbumPhoto, Photo
from image_assistant.errors import Unprocessable


@dataclass
class AlbumResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    missing_photos: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "missing_photos": self.missing_photos,
        }


def sync_album_structure(db: DbSession, *, device: DeviceRef, body: bytes) -> dict[str, Any]:
    """A device's `{"albums": [...], "complete"}`: applied, logged, committed."""
    with synclog.failures_logged(db, device_id=device.id, sync_type="albums"):
        payload = parse_json(body, AlbumSync)
        started_at = datetime.now(UTC)
        result = sync_albums(db, device=device, payload=payload)
        synclog.log_sync(
            db,
            device_id=device.id,
            sync_type="albums",
            started_at=started_at,
            albums_synced=result.created + result.updated,
            created_count=result.created,
            updated_count=result.updated,
            unchanged_count=result.unchanged,
        )
        db.commit()
    return result.as_json()


def sync_albums(db: DbSession, *, device: DeviceRef, payload: AlbumSync) -> AlbumResult:
    """Upsert the device's albums with their ordered membership; drop absent ones if complete."""
    uuids = [a.photos_uuid for a in payload.albums]
    if len(set(uuids)) != len(uuids):
        raise Unprocessable("the same album photos_uuid appears twice", code="duplicate_album")
    wanted = {p for a in payload.albums for p in a.photos}
    photo_ids = _photo_ids(db, device.user_id, wanted)
    existing = {a.photos_uuid: a for a in db.scalars(select(Album).where(Album.user_id == device.user_id))}
    result = AlbumResult(missing_photos=sorted(wanted - photo_ids.keys()))
    retitled: set[uuid.UUID] = set()  # photos whose album titles change: their search text too
    for position, record in enumerate(payload.albums):
        members = [photo_ids[p] for p in record.photos if p in photo_ids]
        album = existing.get(record.photos_uuid)
        if album is None:
            album = Album(user_id=device.user_id, photos_uuid=record.photos_uuid)
            db.add(album)
            result.created += 1
        elif _album_changed(db, album, record, position, members):
            result.updated += 1
        else:
            result.unchanged += 1
            continue
        if album.id is not None:
            retitled.update(_members(db, [album.id]))
        retitled.update(members)
        _apply(db, album, device, record, position, members)
    if payload.complete:
        kept = set(uuids)
        stale = [a.id for key, a in existing.items() if key not in kept and a.device_id == device.id]
        if stale:
            retitled.update(_members(db, stale))
            db.execute(delete(Album).where(Album.id.in_(stale)))
            result.removed = len(stale)
    db.flush()
    search.refresh(db, retitled)
    return result


def _members(db: DbSession, album_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    return list(db.scalars(select(AlbumPhoto.photo_id).where(AlbumPhoto.album_id.in_(album_ids))))


def _apply(
    db: DbSession,
    album: Album,
    device: DeviceRef,
    record: AlbumRecord,
    position: int,
    members: list[uuid.UUID],
) -> None:
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


def _album_changed(
    db: DbSession, album: Album, record: AlbumRecord, position: int, members: list[uuid.UUID]
) -> bool:
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
