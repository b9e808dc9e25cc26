"""Device sync: metadata batches, a photo's files, albums, deletions, pending uploads, status.

Resumable uploads (all under /api/sync/uploads, device token):

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

from typing import Any, NoReturn

import anyio.lowlevel
from fastapi import APIRouter, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.orm import Session as DbSession
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException
from starlette.requests import ClientDisconnect

from image_assistant.api.bodies import blocking_chunks, content_length
from image_assistant.api.deps import (
    CallerDep,
    Db,
    DeviceDep,
    RuntimeDep,
    device_caller,
    parse_uuid,
    token_claims,
)
from image_assistant.api.docs import PhotosUuid, UploadId, binary_body, errors, json_body, photo_with_file
from image_assistant.api.shapes import device_json, iso, json_response, sync_log_json, sync_pass_json
from image_assistant.core import albums, files, ingest, offload, synclog
from image_assistant.core import status as sync_status
from image_assistant.core.devices import DeviceRef
from image_assistant.core.files import FileKind
from image_assistant.core.records import (
    MAX_BIGINT,
    AlbumSync,
    DeletedPhotos,
    PhotoBatch,
    PhotoRecord,
    Sha256,
    canonical_photos_uuid,
    parse_json,
)
from image_assistant.core.tokens import Claims
from image_assistant.db.models import Device
from image_assistant.errors import AppError, BadRequest, UnsupportedMediaType
from image_assistant.runtime import Runtime

router = APIRouter(prefix="/api/sync", tags=["sync"])


@router.post(
    "/photos",
    openapi_extra=json_body(PhotoBatch, multipart=photo_with_file(PhotoRecord)),
    responses=errors(400, 401, 403, 409, 413, 415, 422),
)
async def post_photos(request: Request, runtime: RuntimeDep, db: Db) -> Response:
    """JSON `{"photos": [...]}` (at most 100), or multipart `metadata` + `file` (one photo)."""
    claims = token_claims(request, runtime)  # before reading a body a stranger could send
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        body = await request.body()
        return json_response(await run_in_threadpool(_post_batch, claims, runtime, db, body))
    device = await run_in_threadpool(device_caller, db, claims)
    if not content_type.startswith("multipart/form-data"):
        await _refuse(db, device, UnsupportedMediaType("send application/json or multipart/form-data"))
    return json_response(await _post_multipart(request, device, runtime, db))


def _post_batch(claims: Claims, runtime: Runtime, db: DbSession, body: bytes) -> dict[str, Any]:
    """The hot path of every sync: device check, validation and ingest in one worker-thread hop."""
    device = device_caller(db, claims)
    return ingest.sync_photos(db, device=device, body=body, analyzer=runtime.analyzer)


async def _post_multipart(
    request: Request, device: DeviceRef, runtime: Runtime, db: DbSession
) -> dict[str, Any]:
    limit = runtime.settings.max_json_bytes
    try:
        form = await request.form(max_files=1, max_fields=1, max_part_size=limit)
    except MultiPartException as exc:
        await _refuse(
            db,
            device,
            BadRequest(f"the multipart body is not valid: {exc.message}", code="malformed_multipart"),
        )
    try:
        metadata, upload = form.get("metadata"), form.get("file")
        if not isinstance(metadata, str):
            await _refuse(
                db,
                device,
                BadRequest("a multipart upload needs a 'metadata' JSON field", code="malformed_multipart"),
            )
        if upload is not None and not isinstance(upload, UploadFile):
            await _refuse(db, device, BadRequest("'file' must be a file part", code="malformed_multipart"))
        return await run_in_threadpool(
            ingest.sync_photo_with_file,
            db,
            device=device,
            metadata=metadata.encode(),
            upload=None if upload is None else upload.file,
            photo_files=runtime.files,
            analyzer=runtime.analyzer,
        )
    finally:
        await form.close()


async def _refuse(db: DbSession, device: DeviceRef, error: AppError) -> NoReturn:
    """Answer `error`, leaving a sync log of it (written in a worker thread)."""

    def log_it() -> None:
        with synclog.failures_logged(db, device_id=device.id, sync_type="photos"):
            raise error

    await run_in_threadpool(log_it)
    raise error


@router.put(
    "/photos/{photos_uuid}/{kind}",
    openapi_extra=binary_body(),
    responses=errors(400, 401, 403, 404, 409, 413, 422),
)
async def put_file(
    photos_uuid: PhotosUuid, kind: FileKind, request: Request, device: DeviceDep, runtime: RuntimeDep, db: Db
) -> Response:
    """A file of the photo (original, edited version, Live video…), streamed to the store and
    checked against the SHA-256 in `X-Content-SHA256` (for the original, the metadata's
    `checksum_sha256` when the header is absent). A new edited version replaces the last one."""
    loop = anyio.lowlevel.current_token()

    def store() -> dict[str, Any]:
        with synclog.failures_logged(
            db, device_id=device.id, sync_type="upload", photos_uuid=photos_uuid[:64]
        ):
            received = runtime.files.receive(
                db,
                device=device,
                photos_uuid=_path_photos_uuid(photos_uuid),
                kind=kind,
                sha256=request.headers.get("x-content-sha256"),
                length=content_length(request),
                chunks=blocking_chunks(request, loop),
            )
        return received.as_json()

    return json_response(await run_in_threadpool(store))


def _path_photos_uuid(value: str) -> str:
    try:
        return canonical_photos_uuid(value)
    except ValueError as exc:
        raise BadRequest("photos_uuid must be a UUID", code="invalid_id") from exc


@router.get("/pending", responses=errors(400, 401, 403, 422))
def pending(
    device: DeviceDep,
    db: Db,
    after: str | None = Query(default=None, max_length=64),
    limit: int = Query(default=1000, ge=1, le=10_000),
    kinds: str | None = Query(
        default=None, max_length=256, description="e.g. original,edited,live_video,raw"
    ),
) -> Response:
    """What the server lacks: `items` of {photos_uuid, kind} (with `kinds`), else originals' photos_uuids."""
    items, cursor = files.pending_items(db, user_id=device.user_id, after=after, limit=limit)
    if kinds is not None:
        wanted = set(kinds.split(","))
        chosen = [{"photos_uuid": u, "kind": k.value} for u, k in items if k.value in wanted]
        uuids = sorted({u for u, k in items if k is FileKind.ORIGINAL and k.value in wanted})
        return json_response(
            {"items": chosen, "photos_uuids": uuids, "count": len(chosen), "next_after": cursor}
        )
    originals = sorted({u for u, k in items if k is FileKind.ORIGINAL})
    return json_response(
        {
            "photos_uuids": originals,
            "count": len(originals),
            "next_after": cursor if len(originals) == limit else None,
        }
    )


@router.get("/originals", responses=errors(401, 403))
def stored_originals(device: DeviceDep, runtime: RuntimeDep, db: Db) -> Response:
    """Every file of a library's originals folder (originals, Live videos) the server holds for
    the account: `items` of {photos_uuid, kind, path (as in that folder), sha256, size, in_store};
    what `agent offload-check` reads."""
    items = offload.stored_originals(db, runtime.store, user_id=device.user_id)
    return json_response({"items": items, "count": len(items)})


@router.post("/albums", openapi_extra=json_body(AlbumSync), responses=errors(400, 401, 403, 409, 413, 422))
async def post_albums(request: Request, device: DeviceDep, db: Db) -> Response:
    """The device's album structure (folders, order, membership); `complete` drops albums it no longer has."""
    body = await request.body()
    return json_response(await run_in_threadpool(albums.sync_album_structure, db, device=device, body=body))


@router.post(
    "/photos/deleted",
    openapi_extra=json_body(DeletedPhotos),
    responses=errors(400, 401, 403, 413, 422),
)
async def post_deleted(request: Request, device: DeviceDep, db: Db) -> Response:
    """Photos gone from the device's library: hidden from the gallery, their files kept."""
    body = await request.body()
    return json_response(await run_in_threadpool(ingest.report_deleted, db, device=device, body=body))


@router.get("/passes", responses=errors(401, 403, 422))
def get_passes(caller: CallerDep, db: Db, limit: int = Query(default=20, ge=1, le=200)) -> Response:
    """The newest sync passes (a device's own, or all of a user's): its calls grouped, each with
    when, how long, metadata sent, files and bytes uploaded and errors."""
    device_id = caller.device.id if caller.device is not None else None
    passes = synclog.sync_passes(db, user_id=caller.user_id, device_id=device_id, limit=limit)
    return json_response({"passes": [sync_pass_json(p) for p in passes]})


@router.get("/status", responses=errors(401, 403))
def get_status(caller: CallerDep, db: Db) -> Response:
    """Totals, uploads waiting, thumbnail states and recent sync logs (a device's own, or all of a user's)."""
    device_id = caller.device.id if caller.device is not None else None
    body = sync_status.status_counts(db, user_id=caller.user_id, device_id=device_id)
    logs = synclog.recent_logs(db, user_id=caller.user_id, device_id=device_id)
    body["recent_logs"] = [sync_log_json(entry) for entry in logs]
    body["last_sync_at"] = iso(max((e.completed_at for e in logs if e.completed_at), default=None))
    if caller.device is not None:
        body["device"] = device_json(db.get_one(Device, caller.device.id))
    return json_response(body)


# resumable uploads


class UploadStart(BaseModel):
    model_config = ConfigDict(strict=True)
    photos_uuid: str = Field(max_length=64)
    kind: FileKind
    size: int = Field(ge=1, le=MAX_BIGINT)
    sha256: Sha256

    _uuid = field_validator("photos_uuid")(canonical_photos_uuid)


@router.post(
    "/uploads",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=json_body(UploadStart),
    responses=errors(400, 401, 403, 404, 409, 413, 422),
)
async def start_upload(request: Request, device: DeviceDep, runtime: RuntimeDep, db: Db) -> Response:
    """Start (or find again) a resumable upload of one file of a photo."""
    body = parse_json(await request.body(), UploadStart)
    answer = await run_in_threadpool(
        runtime.uploads.start,
        db,
        device=device,
        photos_uuid=body.photos_uuid,
        kind=body.kind,
        size=body.size,
        sha256=body.sha256,
    )
    return json_response(answer, status_code=status.HTTP_201_CREATED)


@router.get("/uploads/{upload_id}", responses=errors(400, 401, 403, 404))
def upload_offset(upload_id: UploadId, device: DeviceDep, runtime: RuntimeDep, db: Db) -> Response:
    """Where the upload stands: the offset to continue from."""
    return json_response(
        runtime.uploads.offset(db, device=device, upload_id=parse_uuid(upload_id, "upload id"))
    )


@router.delete("/uploads/{upload_id}", responses=errors(400, 401, 403, 404))
def abandon_upload(upload_id: UploadId, device: DeviceDep, runtime: RuntimeDep, db: Db) -> Response:
    """Give the upload up; the bytes held for it are removed."""
    return json_response(
        runtime.uploads.abandon(db, device=device, upload_id=parse_uuid(upload_id, "upload id"))
    )


@router.patch(
    "/uploads/{upload_id}",
    openapi_extra=binary_body(offset_header=True),
    responses=errors(400, 401, 403, 404, 409, 413),
)
async def append_part(
    upload_id: UploadId, request: Request, device: DeviceDep, runtime: RuntimeDep, db: Db
) -> Response:
    """The next bytes from `Upload-Offset`; the answer says the new offset, or that the file is stored."""
    ident = parse_uuid(upload_id, "upload id")
    loop = anyio.lowlevel.current_token()
    answer = await run_in_threadpool(
        runtime.uploads.append,
        db,
        device=device,
        upload_id=ident,
        offset=request.headers.get("upload-offset", ""),
        length=request.headers.get("content-length", ""),
        chunks=blocking_chunks(request, loop),
        on_disconnect=ClientDisconnect,
    )
    return json_response(answer)
