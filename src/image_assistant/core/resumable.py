"""Uploads in parts that survive a dropped connection (a tus-like protocol, see docs/design.md).

The bytes of an unfinished upload are staged in one file per upload under the
staging dir; its size is the offset the client resumes from. When the last byte
arrives it goes to the object store in one atomic `put` (an S3 multipart upload
underneath, with the S3 store) while its SHA-256 is checked; a mismatch stores nothing.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session as DbSession

from image_assistant.db.models import Device, ResumableUpload
from image_assistant.errors import Conflict, NotFound, PayloadTooLarge

log = logging.getLogger("image_assistant.uploads")


@dataclass(frozen=True)
class Staging:
    """The directory holding parts of unfinished uploads."""

    root: Path

    def path(self, upload_id: uuid.UUID) -> Path:
        return self.root / f"{upload_id}.part"

    def received(self, upload_id: uuid.UUID) -> int:
        try:
            return self.path(upload_id).stat().st_size
        except FileNotFoundError:
            return 0


def open_upload(
    db: DbSession,
    *,
    device: Device,
    photos_uuid: str,
    kind: str,
    size: int,
    sha256: str,
    staging: Staging,
    max_bytes: int,
) -> ResumableUpload:
    """The unfinished upload of this very file (same target and checksum), or a new one."""
    if size > max_bytes:
        raise PayloadTooLarge(f"upload is larger than the limit of {max_bytes} bytes")
    existing = db.scalar(
        select(ResumableUpload).where(
            ResumableUpload.user_id == device.user_id,
            ResumableUpload.photos_uuid == photos_uuid,
            ResumableUpload.kind == kind,
            ResumableUpload.sha256 == sha256,
            ResumableUpload.size == size,
        )
    )
    if existing is not None:
        existing.received = staging.received(existing.id)
        return existing
    upload = ResumableUpload(
        id=uuid.uuid4(),
        user_id=device.user_id,
        device_id=device.id,
        photos_uuid=photos_uuid,
        kind=kind,
        size=size,
        sha256=sha256,
        received=0,
    )
    db.add(upload)
    db.flush()
    return upload


def find_upload(db: DbSession, *, device: Device, upload_id: uuid.UUID) -> ResumableUpload:
    upload = db.get(ResumableUpload, upload_id)
    if upload is None or upload.user_id != device.user_id:
        raise NotFound("no such upload; start it again", code="upload_not_found")
    return upload


def append(upload: ResumableUpload, *, offset: int, chunks: Iterator[bytes], staging: Staging) -> int:
    """Append a part at `offset`; bytes received before a disconnect are kept. Returns the new offset."""
    current = staging.received(upload.id)
    if offset != current:
        raise Conflict(
            f"the upload is at offset {current}, not {offset}",
            code="offset_mismatch",
            details={"offset": current},
        )
    staging.root.mkdir(parents=True, exist_ok=True)
    with staging.path(upload.id).open("ab") as handle:
        try:
            for chunk in chunks:
                if current + len(chunk) > upload.size:
                    raise Conflict("the part goes past the declared size", code="upload_too_long")
                handle.write(chunk)
                current += len(chunk)
        finally:
            handle.flush()
    upload.received = current
    upload.updated_at = datetime.now(UTC)
    return current


def finish(db: DbSession, *, upload: ResumableUpload, staging: Staging) -> None:
    staging.path(upload.id).unlink(missing_ok=True)
    db.delete(upload)


def expire(db: DbSession, *, staging: Staging, older_than: timedelta) -> int:
    """Delete uploads untouched for `older_than`, and staged files no upload row owns."""
    cutoff = datetime.now(UTC) - older_than
    stale = list(db.scalars(select(ResumableUpload.id).where(ResumableUpload.updated_at < cutoff)))
    if stale:
        db.execute(delete(ResumableUpload).where(ResumableUpload.id.in_(stale)))
    for upload_id in stale:
        staging.path(upload_id).unlink(missing_ok=True)
    removed = len(stale)
    if staging.root.is_dir():
        known = {str(i) for i in db.scalars(select(ResumableUpload.id))}
        for part in staging.root.glob("*.part"):
            if part.stem not in known and part.stat().st_mtime < cutoff.timestamp():
                part.unlink(missing_ok=True)
                removed += 1
    return removed
