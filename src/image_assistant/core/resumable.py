"""Uploads in parts that survive a dropped connection (a tus-like protocol, see docs/design.md).

An upload is a row (target photo and kind, size, SHA-256) whose bytes wait in `Parts`
(core/parts.py) until the last one arrives; then the whole is checked and handed to
`PhotoFiles.record` like any other file. Uploads untouched for their time to live are
removed, with their parts, every so often as new ones start.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session as DbSession

from image_assistant.core import files
from image_assistant.core.devices import DeviceRef
from image_assistant.core.files import FileKind, PhotoFiles
from image_assistant.core.parts import PART_SIZE, Parts, RunningHashes, StoreParts, append, parts_for
from image_assistant.db.models import ResumableUpload
from image_assistant.errors import (
    BadRequest,
    ChecksumMismatch,
    Conflict,
    NotFound,
    PayloadTooLarge,
    Unavailable,
)

log = logging.getLogger("image_assistant.uploads")
EXPIRY_EVERY_SECONDS = 60.0


class ResumableUploads:
    """The resumable-upload use cases of one process, with its running hashes and expiry schedule."""

    def __init__(self, *, files: PhotoFiles, staging_dir: Path, ttl_seconds: int, max_bytes: int) -> None:
        self.files = files
        self.ttl = timedelta(seconds=ttl_seconds)
        self.max_bytes = max_bytes
        self.parts: Parts = parts_for(files.store, staging_dir=staging_dir, hashes=RunningHashes())
        self._last_expiry = 0.0
        self._expiry_lock = threading.Lock()
        self._sending: set[uuid.UUID] = set()  # uploads a PATCH is appending to (this process)

    def start(
        self, db: DbSession, *, device: DeviceRef, photos_uuid: str, kind: FileKind, size: int, sha256: str
    ) -> dict[str, Any]:
        """The upload of this very file (same target and checksum) as far as it got, or a new one."""
        self._expire_now_and_then(db)
        photo = files.find_photo(db, user_id=device.user_id, photos_uuid=photos_uuid)
        if files.is_stored(db, photo=photo, kind=kind, sha256=sha256):
            db.commit()
            return {
                "photos_uuid": photo.photos_uuid,
                "kind": kind.value,
                "status": "unchanged",
                "offset": size,
            }
        upload = self._open(db, device=device, photos_uuid=photos_uuid, kind=kind, size=size, sha256=sha256)
        db.commit()
        if upload.received == upload.size:  # every byte had arrived, but the server stopped before storing
            return self._complete(db, device, upload)
        return _upload_json(upload, upload.received) | {"status": "partial", "part_size": PART_SIZE}

    def offset(self, db: DbSession, *, device: DeviceRef, upload_id: uuid.UUID) -> dict[str, Any]:
        upload = find_upload(db, device=device, upload_id=upload_id)
        offset = self.parts.received(upload)
        db.commit()  # parts found gone start again under a new multipart id
        return _upload_json(upload, offset) | {"status": "partial", "part_size": PART_SIZE}

    def abandon(self, db: DbSession, *, device: DeviceRef, upload_id: uuid.UUID) -> dict[str, Any]:
        upload = find_upload(db, device=device, upload_id=upload_id)
        self._finish(db, upload)
        db.commit()
        return {"upload_id": str(upload_id), "status": "abandoned"}

    def append(
        self,
        db: DbSession,
        *,
        device: DeviceRef,
        upload_id: uuid.UUID,
        offset: str,
        length: str,
        chunks: Iterator[bytes],
        on_disconnect: type[BaseException],
    ) -> dict[str, Any]:
        """The bytes from `offset` (the Upload-Offset header); with the last one, the stored file.

        `on_disconnect` is the exception a dropped connection raises from `chunks`: what was
        kept before it is recorded, so the client resumes from there.
        """
        upload = find_upload(db, device=device, upload_id=upload_id)
        if not offset.isdigit():
            raise BadRequest("send the part's position in Upload-Offset", code="offset_required")
        if isinstance(self.parts, StoreParts):
            _check_part_size(upload, int(offset), length)
        with self._claimed(upload.id):
            try:
                received = append(upload, offset=int(offset), chunks=chunks, parts=self.parts)
            except on_disconnect:
                db.commit()
                raise
            db.commit()
        if received < upload.size:
            return _upload_json(upload, received) | {"status": "partial"}
        return self._complete(db, device, upload)

    @contextmanager
    def _claimed(self, upload_id: uuid.UUID) -> Iterator[None]:
        """One PATCH at a time per upload: a second one at the same offset is refused (409)."""
        with self._expiry_lock:
            if upload_id in self._sending:
                raise Conflict(
                    "another part of this upload is being sent; retry once it is done",
                    code="upload_busy",
                )
            self._sending.add(upload_id)
        try:
            yield
        finally:
            with self._expiry_lock:
                self._sending.discard(upload_id)

    def _open(
        self, db: DbSession, *, device: DeviceRef, photos_uuid: str, kind: FileKind, size: int, sha256: str
    ) -> ResumableUpload:
        if size > self.max_bytes:
            raise PayloadTooLarge(f"upload is larger than the limit of {self.max_bytes} bytes")
        existing = db.scalar(
            select(ResumableUpload).where(
                ResumableUpload.user_id == device.user_id,
                ResumableUpload.photos_uuid == photos_uuid,
                ResumableUpload.kind == kind.value,
                ResumableUpload.sha256 == sha256,
                ResumableUpload.size == size,
            )
        )
        if existing is not None:
            existing.received = self.parts.received(existing)
            return existing
        upload = ResumableUpload(
            id=uuid.uuid4(),
            user_id=device.user_id,
            device_id=device.id,
            photos_uuid=photos_uuid,
            kind=kind.value,
            size=size,
            sha256=sha256,
            received=0,
        )
        self.parts.begin(upload)
        db.add(upload)
        db.flush()
        return upload

    def _complete(self, db: DbSession, device: DeviceRef, upload: ResumableUpload) -> dict[str, Any]:
        started_at = datetime.now(UTC)
        kind = FileKind(upload.kind)
        photo = files.find_photo(db, user_id=device.user_id, photos_uuid=upload.photos_uuid)
        target = files.target_for(db, photo=photo, kind=kind)
        try:
            self.parts.publish(upload, key=target.key, content_type=target.content_type)
        except ChecksumMismatch:
            db.rollback()
            self._finish(db, db.merge(upload))
            db.commit()
            raise
        self._finish(db, upload)
        received = self.files.record(
            db,
            device=device,
            photo=photo,
            kind=kind,
            target=target,
            sha256=upload.sha256,
            size=upload.size,
            started_at=started_at,
        )
        return received.as_json() | {"upload_id": str(upload.id), "offset": upload.size}

    def _finish(self, db: DbSession, upload: ResumableUpload) -> None:
        self.parts.discard(upload)
        db.delete(upload)

    def _expire_now_and_then(self, db: DbSession) -> None:
        now = time.monotonic()
        with self._expiry_lock:
            every = min(EXPIRY_EVERY_SECONDS, self.ttl.total_seconds())
            if self._last_expiry and now - self._last_expiry < every:
                return
            self._last_expiry = now
        try:
            removed = self.expire(db)
        except Unavailable as exc:  # an unreachable store must not stop new uploads; the next run retries
            db.rollback()
            log.warning("could not remove abandoned uploads: %s", exc)
            return
        if removed:
            log.info("removed %d abandoned upload(s)", removed)

    def expire(self, db: DbSession) -> int:
        """Delete uploads untouched for the time to live, and parts no upload row owns."""
        cutoff = datetime.now(UTC) - self.ttl
        stale = list(db.scalars(select(ResumableUpload).where(ResumableUpload.updated_at < cutoff)))
        for upload in stale:
            self.parts.discard(upload)
        if stale:
            db.execute(delete(ResumableUpload).where(ResumableUpload.id.in_([u.id for u in stale])))
        known = set(db.scalars(select(ResumableUpload.id)))
        return len(stale) + self.parts.sweep(known=known, before=cutoff)


def find_upload(db: DbSession, *, device: DeviceRef, upload_id: uuid.UUID) -> ResumableUpload:
    upload = db.get(ResumableUpload, upload_id)
    if upload is None or upload.user_id != device.user_id:
        raise NotFound("no such upload; start it again", code="upload_not_found")
    return upload


def _check_part_size(upload: ResumableUpload, offset: int, length: str) -> None:
    """With store parts a PATCH that neither fills a part nor ends the file would keep nothing:
    say so, rather than answer the same offset for ever."""
    if length.isdigit() and int(length) < PART_SIZE and offset + int(length) < upload.size:
        raise BadRequest(
            f"a PATCH must carry at least part_size ({PART_SIZE}) bytes unless it ends the file",
            code="part_too_small",
            details={"part_size": PART_SIZE},
        )


def _upload_json(upload: ResumableUpload, offset: int) -> dict[str, Any]:
    return {
        "upload_id": str(upload.id),
        "photos_uuid": upload.photos_uuid,
        "kind": upload.kind,
        "size": upload.size,
        "offset": offset,
    }
