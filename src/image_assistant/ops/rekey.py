"""`migrate-keys`: move stored files whose key is not the one the current naming gives.

A photo's files are named as Photos.app names them (`<U[0]>/<UUID>.<ext>`, the extension its
type has in Photos.app: IMG_1.JPG is `<UUID>.jpeg`). Objects stored under an older name
(`<UUID>.jpg`) are copied to the new key with their SHA-256 checked, the rows pointed at it
in one commit per file, and then the old object is deleted. Running it again moves nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import sessionmaker

from image_assistant.core.files import FileKind, canonical_target
from image_assistant.core.sidecars import SUFFIX as SIDECAR_SUFFIX
from image_assistant.core.uploads import VerifiedReader
from image_assistant.db.models import Photo, PhotoFile, PhotoSidecar, PlaybackRendition
from image_assistant.errors import ObjectNotFound
from image_assistant.store.base import ObjectStore


@dataclass
class RekeyReport:
    moved: int = 0
    bytes: int = 0
    unchanged: int = 0
    missing: list[str] = field(default_factory=list)  # rows naming an object the store lacks


def _stored_rows(db: DbSession) -> Iterator[tuple[PhotoFile, Photo]]:
    rows = select(PhotoFile, Photo).join(Photo, Photo.id == PhotoFile.photo_id)
    yield from db.execute(rows.where(PhotoFile.object_key.is_not(None)).order_by(PhotoFile.photo_id)).tuples()


def rekey(*, sessions: sessionmaker[DbSession], store: ObjectStore) -> RekeyReport:
    report = RekeyReport()
    with sessions() as db:
        for row, photo in list(_stored_rows(db)):
            old = str(row.object_key)
            target = canonical_target(photo=photo, kind=FileKind(row.kind), row=row)
            if target.key == old:
                report.unchanged += 1
                continue
            try:
                _copy_checked(store, old, target.key, row, target.content_type)
            except ObjectNotFound:
                report.missing.append(old)
                continue
            row.object_key = target.key
            if photo.thumbnail_source_key == old:
                photo.thumbnail_source_key = target.key
            db.execute(
                update(PlaybackRendition)
                .where(PlaybackRendition.source_key == old)
                .values(source_key=target.key)
            )
            # The sidecar beside the old key: gone with it; the sidecar sweep writes it anew.
            sidecars = db.scalars(select(PhotoSidecar).where(PhotoSidecar.object_key == old + SIDECAR_SUFFIX))
            stale = [sidecar.object_key for sidecar in sidecars]
            db.execute(delete(PhotoSidecar).where(PhotoSidecar.object_key.in_(stale)))
            db.commit()
            for key in [old, *stale]:
                store.delete(key)
            report.moved += 1
            report.bytes += row.size or 0
    return report


def _copy_checked(store: ObjectStore, old: str, new: str, row: PhotoFile, content_type: str) -> None:
    """The object at `new`, byte for byte the row's (its SHA-256 checked), before any row moves."""
    reader = VerifiedReader(
        store.open(old), expected_sha256=str(row.sha256), expected_length=row.size, max_bytes=1 << 62
    )
    store.put(new, reader, content_type=content_type)
