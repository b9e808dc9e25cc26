"""Agent uploads beyond the original: edited versions, Live videos, resumable uploads, deletions.

Resumable protocol (all under /api/sync/uploads, device token):

    POST   /uploads        {photos_uuid, kind, size, sha256} → {upload_id, offset, size}
                           (the same file again → the same upload and the offset reached)
    GET    /uploads/{id}   → {upload_id, offset, size}
    PATCH  /uploads/{id}   header Upload-Offset: n, body: the next bytes
                           → {offset} or, with the last byte, {status: "stored"}
                           409 offset_mismatch carries the server's offset in details
    DELETE /uploads/{id}   abandon; staged bytes are removed

With the S3 store the bytes become parts of an S3 multipart upload as they arrive, in whole
parts of `part_size` (8 MiB): bytes past the last whole part of a PATCH (or a dropped
connection) are not kept, and the offset answered says where to go on; a PATCH shorter than a
part that does not end the file is refused (400 part_too_small). With the local store
every byte that arrived is kept. Parts untouched for RESUMABLE_UPLOAD_EXPIRES_IN are deleted.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import anyio.lowlevel
from anyio.lowlevel import EventLoopToken
from fastapi import APIRouter, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field, field_validator
from sqlalchemy.orm import Session as DbSession
from starlette.requests import ClientDisconnect

from image_assistant.api.bodies import (
    blocking_chunks,
    declared_sha256,
    parse_json,
    path_photos_uuid,
    verified_body,
)
from image_assistant.api.deps import Db, DeviceDep, ServicesDep, parse_uuid
from image_assistant.api.storing import filename_for, record_stored
from image_assistant.core import binaries, resumable, sync
from image_assistant.core.devices import DeviceRef
from image_assistant.core.records import DeletedPhotos, canonical_photos_uuid, check_sha256
from image_assistant.db.models import Photo, ResumableUpload
from image_assistant.errors import BadRequest, ChecksumMismatch, Unavailable
from image_assistant.services import Services
from image_assistant.store.keys import binary_key, original_key

router = APIRouter(prefix="/api/sync", tags=["sync"])
log = logging.getLogger("image_assistant.uploads")
_last_expiry = {"at": 0.0}
_running_hashes = resumable.RunningHashes()
EXPIRY_EVERY_SECONDS = 60.0


class UploadStart(BaseModel):
    photos_uuid: str = Field(max_length=64)
    kind: Literal["original", "edited", "live_video"]
    size: int = Field(ge=1)
    sha256: str

    _uuid = field_validator("photos_uuid")(canonical_photos_uuid)
    _sha = field_validator("sha256")(check_sha256)


def _already_stored(db: DbSession, photo: Photo, kind: str, sha256: str) -> bool:
    if kind == "original":
        return photo.original_key is not None and photo.original_sha256 == sha256
    row = binaries.find_binary(db, photo=photo, kind=kind)
    return row is not None and row.object_key is not None and row.stored_sha256 == sha256


def _store_and_record(
    services: Services, db: DbSession, device: DeviceRef, photo: Photo, kind: str, reader: Any
) -> dict[str, Any]:
    """Write the bytes under the kind's key, then record them."""
    started_at = datetime.now(UTC)
    if kind == "original":
        key = sync.store_original(services.store, photo=photo, body=reader)
    else:
        filename = filename_for(db, photo, kind)
        key = binaries.store_binary(services.store, photo=photo, kind=kind, filename=filename, body=reader)
    record_stored(
        services,
        db,
        device,
        photo,
        kind,
        key=key,
        sha256=reader.sha256,
        size=reader.size,
        started_at=started_at,
    )
    return _stored_json(photo, kind, reader.sha256, reader.size)


def _stored_json(photo: Photo, kind: str, sha256: str, size: int) -> dict[str, Any]:
    return {
        "photos_uuid": photo.photos_uuid,
        "kind": kind,
        "status": "stored",
        "sha256": sha256,
        "size": size,
    }


def _put_binary(
    kind: str,
    photos_uuid: str,
    request: Request,
    loop: EventLoopToken,
    device: DeviceRef,
    services: Services,
    db: DbSession,
) -> dict[str, Any]:
    photo = sync.find_photo(db, user_id=device.user_id, photos_uuid=path_photos_uuid(photos_uuid))
    declared = declared_sha256(request.headers.get("x-content-sha256"))
    if _already_stored(db, photo, kind, declared):
        return {"photos_uuid": photo.photos_uuid, "kind": kind, "status": "unchanged", "sha256": declared}
    reader = verified_body(
        request, loop, expected_sha256=declared, max_bytes=services.settings.max_upload_bytes
    )
    return _store_and_record(services, db, device, photo, kind, reader)


@router.put("/photos/{photos_uuid}/edited")
async def put_edited(
    photos_uuid: str, request: Request, device: DeviceDep, services: ServicesDep, db: Db
) -> dict[str, Any]:
    """The current edited version, streamed and checked like the original; it replaces the last one."""
    loop = anyio.lowlevel.current_token()
    return await run_in_threadpool(_put_binary, "edited", photos_uuid, request, loop, device, services, db)


@router.put("/photos/{photos_uuid}/live_video")
async def put_live_video(
    photos_uuid: str, request: Request, device: DeviceDep, services: ServicesDep, db: Db
) -> dict[str, Any]:
    """The paired video of a Live Photo."""
    loop = anyio.lowlevel.current_token()
    return await run_in_threadpool(
        _put_binary, "live_video", photos_uuid, request, loop, device, services, db
    )


@router.post("/photos/deleted")
async def post_deleted(request: Request, device: DeviceDep, db: Db) -> dict[str, Any]:
    """Photos gone from the device's library: hidden from the gallery, their files kept."""
    body = parse_json(await request.body(), DeletedPhotos)
    return await run_in_threadpool(_mark_deleted, db, device, body)


def _mark_deleted(db: DbSession, device: DeviceRef, body: DeletedPhotos) -> dict[str, Any]:
    hidden = binaries.mark_deleted(db, user_id=device.user_id, photos_uuids=body.photos_uuids)
    db.commit()
    return {"deleted": hidden}


# resumable uploads


def _parts(services: Services) -> resumable.Parts:
    return resumable.parts_for(
        services.store, staging_dir=services.settings.upload_staging_dir, hashes=_running_hashes
    )


def _upload_json(upload: ResumableUpload, offset: int) -> dict[str, Any]:
    return {
        "upload_id": str(upload.id),
        "photos_uuid": upload.photos_uuid,
        "kind": upload.kind,
        "size": upload.size,
        "offset": offset,
    }


def _expire_now_and_then(services: Services, db: DbSession) -> None:
    now = time.monotonic()
    ttl = timedelta(seconds=services.settings.resumable_upload_ttl)
    if _last_expiry["at"] and now - _last_expiry["at"] < min(EXPIRY_EVERY_SECONDS, ttl.total_seconds()):
        return
    _last_expiry["at"] = now
    try:
        removed = resumable.expire(db, parts=_parts(services), older_than=ttl)
    except Unavailable as exc:  # an unreachable store must not stop new uploads; the next run retries
        db.rollback()
        log.warning("could not remove abandoned uploads: %s", exc)
        return
    if removed:
        log.info("removed %d abandoned upload(s)", removed)


@router.post("/uploads", status_code=status.HTTP_201_CREATED)
async def start_upload(request: Request, device: DeviceDep, services: ServicesDep, db: Db) -> dict[str, Any]:
    body = parse_json(await request.body(), UploadStart)
    return await run_in_threadpool(_start_upload, body, device, services, db)


def _start_upload(body: UploadStart, device: DeviceRef, services: Services, db: DbSession) -> dict[str, Any]:
    _expire_now_and_then(services, db)
    photo = sync.find_photo(db, user_id=device.user_id, photos_uuid=body.photos_uuid)
    if _already_stored(db, photo, body.kind, body.sha256):
        db.commit()
        return {
            "photos_uuid": photo.photos_uuid,
            "kind": body.kind,
            "status": "unchanged",
            "offset": body.size,
        }
    parts = _parts(services)
    upload = resumable.open_upload(
        db,
        device=device,
        photos_uuid=body.photos_uuid,
        kind=body.kind,
        size=body.size,
        sha256=body.sha256,
        parts=parts,
        max_bytes=services.settings.max_upload_bytes,
    )
    db.commit()
    if upload.received == upload.size:  # every byte had arrived, but the server stopped before storing
        return _complete(upload, device, services, db, parts)
    return _upload_json(upload, upload.received) | {"status": "partial", "part_size": resumable.PART_SIZE}


@router.get("/uploads/{upload_id}")
def upload_offset(upload_id: str, device: DeviceDep, services: ServicesDep, db: Db) -> dict[str, Any]:
    upload = resumable.find_upload(db, device=device, upload_id=parse_uuid(upload_id, "upload id"))
    offset = _parts(services).received(upload)
    db.commit()  # parts found gone start again under a new multipart id
    return _upload_json(upload, offset) | {"status": "partial", "part_size": resumable.PART_SIZE}


@router.delete("/uploads/{upload_id}")
def abandon_upload(upload_id: str, device: DeviceDep, services: ServicesDep, db: Db) -> dict[str, Any]:
    upload = resumable.find_upload(db, device=device, upload_id=parse_uuid(upload_id, "upload id"))
    resumable.finish(db, upload=upload, parts=_parts(services))
    db.commit()
    return {"upload_id": upload_id, "status": "abandoned"}


@router.patch("/uploads/{upload_id}")
async def append_part(
    upload_id: str, request: Request, device: DeviceDep, services: ServicesDep, db: Db
) -> dict[str, Any]:
    ident = parse_uuid(upload_id, "upload id")
    loop = anyio.lowlevel.current_token()
    return await run_in_threadpool(_append_part, ident, request, loop, device, services, db)


def _append_part(
    upload_id: uuid.UUID,
    request: Request,
    loop: EventLoopToken,
    device: DeviceRef,
    services: Services,
    db: DbSession,
) -> dict[str, Any]:
    upload = resumable.find_upload(db, device=device, upload_id=upload_id)
    offset = request.headers.get("upload-offset", "")
    if not offset.isdigit():
        raise BadRequest("send the part's position in Upload-Offset", code="offset_required")
    parts = _parts(services)
    if isinstance(parts, resumable.StoreParts):
        _check_part_size(upload, int(offset), request.headers.get("content-length", ""))
    try:
        received = resumable.append(
            upload, offset=int(offset), chunks=blocking_chunks(request, loop), parts=parts
        )
    except ClientDisconnect:
        db.commit()  # what was kept stays; the client resumes from it
        raise
    db.commit()
    if received < upload.size:
        return _upload_json(upload, received) | {"status": "partial"}
    return _complete(upload, device, services, db, parts)


def _check_part_size(upload: ResumableUpload, offset: int, length: str) -> None:
    """With store parts a PATCH that neither fills a part nor ends the file would keep nothing:
    say so, rather than answer the same offset for ever."""
    if length.isdigit() and int(length) < resumable.PART_SIZE and offset + int(length) < upload.size:
        raise BadRequest(
            f"a PATCH must carry at least part_size ({resumable.PART_SIZE}) bytes unless it ends the file",
            code="part_too_small",
            details={"part_size": resumable.PART_SIZE},
        )


def _target(db: DbSession, photo: Photo, kind: str) -> tuple[str, str]:
    """The key and content type of the finished file, as a single-request upload stores it."""
    if kind == "original":
        return original_key(photo.user_id, photo.photos_uuid, photo.filename), photo.content_type
    filename = filename_for(db, photo, kind)
    return binary_key(kind, photo.user_id, photo.photos_uuid, filename), binaries.content_type_of(filename)


def _complete(
    upload: ResumableUpload, device: DeviceRef, services: Services, db: DbSession, parts: resumable.Parts
) -> dict[str, Any]:
    started_at = datetime.now(UTC)
    photo = sync.find_photo(db, user_id=device.user_id, photos_uuid=upload.photos_uuid)
    key, content_type = _target(db, photo, upload.kind)
    try:
        parts.publish(upload, key=key, content_type=content_type)
    except ChecksumMismatch:
        db.rollback()
        resumable.finish(db, upload=db.merge(upload), parts=parts)
        db.commit()
        raise
    record_stored(
        services,
        db,
        device,
        photo,
        upload.kind,
        key=key,
        sha256=upload.sha256,
        size=upload.size,
        started_at=started_at,
    )
    resumable.finish(db, upload=upload, parts=parts)
    db.commit()
    answer = _stored_json(photo, upload.kind, upload.sha256, upload.size)
    return answer | {"upload_id": str(upload.id), "offset": upload.size}
