"""Device sync endpoints: metadata batches, originals, albums, pending uploads, status."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import anyio.lowlevel
from anyio.lowlevel import EventLoopToken
from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy.orm import Session as DbSession
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException

from image_assistant.api.bodies import declared_sha256, parse_json, path_photos_uuid, verified_body
from image_assistant.api.deps import CallerDep, Db, DeviceDep, ServicesDep, device_caller, token_claims
from image_assistant.api.shapes import device_json, iso, json_response, sync_log_json
from image_assistant.api.storing import record_stored
from image_assistant.core import binaries, sync
from image_assistant.core.devices import DeviceRef
from image_assistant.core.records import (
    AlbumSync,
    PhotoBatch,
    PhotoRecord,
)
from image_assistant.core.tokens import Claims
from image_assistant.core.uploads import VerifiedReader
from image_assistant.db.models import Device, Photo
from image_assistant.errors import AppError, BadRequest, UnsupportedMediaType
from image_assistant.services import Services

router = APIRouter(prefix="/api/sync", tags=["sync"])
CHUNK = 1024 * 1024


def _log_failure(
    services: Services, device: DeviceRef, sync_type: str, error: AppError, uuid: str | None = None
) -> None:
    """A failed call still leaves a sync log, written apart from the rolled-back work."""
    with services.sessions() as db, db.begin():
        sync.log_sync(
            db,
            device_id=device.id,
            sync_type=sync_type,
            started_at=datetime.now(UTC),
            errors=[{"photos_uuid": uuid, "code": error.code, "message": error.message}],
        )


def _ingest(db: DbSession, device: DeviceRef, records: list[PhotoRecord]) -> dict[str, Any]:
    started_at = datetime.now(UTC)
    result = sync.ingest_photos(db, device=device, records=records)
    binaries.declare(
        db,
        user_id=device.user_id,
        records=records,
        photo_ids={r.photos_uuid: r.id for r in result.results},
        new_photos={r.photos_uuid for r in result.results if r.status == "created"},
    )
    created, updated, unchanged = (result.count(s) for s in ("created", "updated", "unchanged"))
    sync.log_sync(
        db,
        device_id=device.id,
        sync_type="photos",
        started_at=started_at,
        photos_synced=created + updated,
        created_count=created,
        updated_count=updated,
        unchanged_count=unchanged,
    )
    db.commit()
    return {
        "created": created,
        "updated": updated,
        "unchanged": unchanged,
        "results": [
            {
                "photos_uuid": r.photos_uuid,
                "id": r.id,
                "status": r.status,
                "needs_upload": r.needs_upload,
            }
            for r in result.results
        ],
    }


@router.post("/photos")
async def post_photos(request: Request, services: ServicesDep, db: Db) -> Response:
    """JSON `{"photos": [...]}` (at most 100), or multipart `metadata` + `file` (one photo)."""
    claims = token_claims(request, services)  # before reading a body a stranger could send
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        body = await request.body()
        return json_response(await run_in_threadpool(_post_batch, claims, services, db, body))
    device = await run_in_threadpool(device_caller, db, claims)
    try:
        if not content_type.startswith("multipart/form-data"):
            raise UnsupportedMediaType("send application/json or multipart/form-data")
        answer = await _post_multipart(request, device, services, db)
        await run_in_threadpool(_analyze_if_due, services, answer)
        return json_response(answer)
    except AppError as error:
        await run_in_threadpool(_log_failure, services, device, "photos", error)
        raise


def _post_batch(claims: Claims, services: Services, db: DbSession, body: bytes) -> dict[str, Any]:
    """The hot path of every sync: device check, validation and ingest in one worker-thread hop."""
    device = device_caller(db, claims)
    try:
        batch = parse_json(body, PhotoBatch)
        answer = _ingest(db, device, batch.photos)
    except AppError as error:
        _log_failure(services, device, "photos", error)
        raise
    _analyze_if_due(services, answer)
    return answer


def _analyze_if_due(services: Services, answer: dict[str, Any]) -> None:
    if services.analyzer.due("photos", answer["created"]):
        services.analyzer.analyze("photos")


async def _post_multipart(
    request: Request, device: DeviceRef, services: Services, db: DbSession
) -> dict[str, Any]:
    settings = services.settings
    try:
        form = await request.form(max_files=1, max_fields=1, max_part_size=settings.max_json_bytes)
    except MultiPartException as exc:
        raise BadRequest(
            f"the multipart body is not valid: {exc.message}", code="malformed_multipart"
        ) from exc
    try:
        metadata, upload = form.get("metadata"), form.get("file")
        if not isinstance(metadata, str):
            raise BadRequest("a multipart upload needs a 'metadata' JSON field", code="malformed_multipart")
        record = parse_json(metadata.encode(), PhotoRecord)
        if upload is not None and not isinstance(upload, UploadFile):
            raise BadRequest("'file' must be a file part", code="malformed_multipart")
        return await run_in_threadpool(_ingest_with_file, services, db, device, record, upload)
    finally:
        await form.close()


def _ingest_with_file(
    services: Services,
    db: DbSession,
    device: DeviceRef,
    record: PhotoRecord,
    upload: UploadFile | None,
) -> dict[str, Any]:
    if upload is None:
        return _ingest(db, device, [record])
    if record.checksum_sha256 is None:
        raise BadRequest("metadata needs checksum_sha256 to verify the file", code="checksum_required")
    known = sync.find_photo_or_none(db, user_id=device.user_id, photos_uuid=record.photos_uuid)
    if known is not None and known.original_key and known.original_sha256 == record.checksum_sha256:
        return _ingest(db, device, [record])
    reader = VerifiedReader(
        iter(lambda: upload.file.read(CHUNK), b""),
        expected_sha256=record.checksum_sha256,
        expected_length=None,
        max_bytes=services.settings.max_upload_bytes,
    )
    staged = Photo(
        user_id=device.user_id,
        photos_uuid=record.photos_uuid,
        filename=record.filename,
        content_type=record.content_type,
    )
    started_at = datetime.now(UTC)
    key = sync.store_original(services.store, photo=staged, body=reader)  # type: ignore[arg-type]
    answer = _ingest(db, device, [record])
    photo = sync.find_photo(db, user_id=device.user_id, photos_uuid=record.photos_uuid)
    _record_original(services, db, device, photo, key, reader, started_at)
    answer["results"][0]["needs_upload"] = False
    return answer


def _record_original(
    services: Services,
    db: DbSession,
    device: DeviceRef,
    photo: Photo,
    key: str,
    reader: VerifiedReader,
    started_at: datetime,
) -> None:
    record_stored(
        services,
        db,
        device,
        photo,
        "original",
        key=key,
        sha256=reader.sha256,
        size=reader.size,
        started_at=started_at,
    )


@router.put("/photos/{photos_uuid}/original")
async def put_original(
    photos_uuid: str, request: Request, device: DeviceDep, services: ServicesDep, db: Db
) -> dict[str, Any]:
    """The original's bytes, streamed to the store and checked against their SHA-256."""
    try:
        loop = anyio.lowlevel.current_token()
        return await run_in_threadpool(_put_original, photos_uuid, request, loop, device, services, db)
    except AppError as error:
        await run_in_threadpool(_log_failure, services, device, "upload", error, photos_uuid[:64])
        raise


def _put_original(
    photos_uuid: str,
    request: Request,
    loop: EventLoopToken,
    device: DeviceRef,
    services: Services,
    db: DbSession,
) -> dict[str, Any]:
    photos_uuid = path_photos_uuid(photos_uuid)
    photo = sync.find_photo(db, user_id=device.user_id, photos_uuid=photos_uuid)
    declared = declared_sha256(request.headers.get("x-content-sha256") or photo.checksum_sha256)
    if photo.original_key is not None and photo.original_sha256 == declared:
        return {"photos_uuid": photos_uuid, "status": "unchanged", "sha256": declared}
    reader = verified_body(
        request, loop, expected_sha256=declared, max_bytes=services.settings.max_upload_bytes
    )
    started_at = datetime.now(UTC)
    key = sync.store_original(services.store, photo=photo, body=reader)  # type: ignore[arg-type]
    _record_original(services, db, device, photo, key, reader, started_at)
    return {
        "photos_uuid": photos_uuid,
        "status": "stored",
        "sha256": reader.sha256,
        "size": reader.size,
    }


@router.get("/pending")
def pending(
    device: DeviceDep,
    db: Db,
    after: str | None = Query(default=None, max_length=64),
    limit: int = Query(default=1000, ge=1, le=10_000),
    kinds: str | None = Query(default=None, max_length=64),
) -> dict[str, Any]:
    if kinds is not None:  # original, edited and live_video as {photos_uuid, kind} items
        items, cursor = binaries.pending_items(db, user_id=device.user_id, after=after, limit=limit)
        wanted = set(kinds.split(","))
        chosen = [{"photos_uuid": u, "kind": k} for u, k in items if k in wanted]
        uuids = sorted({u for u, k in items if k == "original" and k in wanted})
        return {"items": chosen, "photos_uuids": uuids, "count": len(chosen), "next_after": cursor}
    uuids = sync.pending_uploads(db, user_id=device.user_id, after=after, limit=limit)
    return {
        "photos_uuids": uuids,
        "count": len(uuids),
        "next_after": uuids[-1] if len(uuids) == limit else None,
    }


@router.post("/albums")
async def post_albums(request: Request, device: DeviceDep, services: ServicesDep, db: Db) -> dict[str, Any]:
    try:
        payload = parse_json(await request.body(), AlbumSync)
        return await run_in_threadpool(_sync_albums, db, device, payload)
    except AppError as error:
        await run_in_threadpool(_log_failure, services, device, "albums", error)
        raise


def _sync_albums(db: DbSession, device: DeviceRef, payload: AlbumSync) -> dict[str, Any]:
    started_at = datetime.now(UTC)
    result = sync.sync_albums(db, device=device, payload=payload)
    sync.log_sync(
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
    return {
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "removed": result.removed,
        "missing_photos": result.missing_photos,
    }


@router.get("/status")
def status(caller: CallerDep, db: Db) -> dict[str, Any]:
    device_id = caller.device.id if caller.device is not None else None
    body = sync.status_counts(db, user_id=caller.user_id, device_id=device_id)
    logs = sync.recent_logs(db, user_id=caller.user_id, device_id=device_id)
    body["recent_logs"] = [sync_log_json(entry) for entry in logs]
    body["last_sync_at"] = iso(max((e.completed_at for e in logs if e.completed_at), default=None))
    if caller.device is not None:
        body["device"] = device_json(db.get_one(Device, caller.device.id))
    return body
