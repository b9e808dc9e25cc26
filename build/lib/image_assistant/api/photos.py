"""The timeline, one photo, and pre-signed links to its files and thumbnails."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from image_assistant.api.deps import Db, RuntimeDep, UserCaller, parse_uuid
from image_assistant.api.docs import PhotoId, errors
from image_assistant.api.links import presigned
from image_assistant.api.shapes import json_response, photo_json
from image_assistant.core import files, gallery
from image_assistant.core.files import FileKind
from image_assistant.errors import BadRequest, NotFound
from image_assistant.store.keys import THUMBNAIL_SIZES

router = APIRouter(prefix="/api/photos", tags=["photos"])


@router.get("", responses=errors(400, 401, 403, 404, 422))
def list_photos(
    caller: UserCaller,
    db: Db,
    limit: int = Query(default=100, ge=1, le=500),
    cursor: str | None = Query(default=None, max_length=512),
    album_id: str | None = Query(default=None, max_length=64, json_schema_extra={"format": "uuid"}),
) -> Response:
    """The library newest first (or one album's photos), a page at a time: pass `next_cursor` on."""
    album = parse_uuid(album_id, "album_id") if album_id is not None else None
    page = gallery.timeline(db, user_id=caller.user_id, album_id=album, after=cursor, limit=limit)
    return json_response({"photos": [photo_json(p) for p in page.photos], "next_cursor": page.next_cursor})


@router.get("/{photo_id}", responses=errors(400, 401, 403, 404))
def get_photo(photo_id: PhotoId, caller: UserCaller, db: Db) -> Response:
    row = gallery.photo_row(db, user_id=caller.user_id, photo_id=parse_uuid(photo_id, "photo id"))
    return json_response(photo_json(row))


@router.get("/{photo_id}/download", responses=errors(400, 401, 403, 404, 422))
def download(
    photo_id: PhotoId,
    request: Request,
    caller: UserCaller,
    runtime: RuntimeDep,
    db: Db,
    redirect: bool = False,
) -> Response:
    """A pre-signed URL of the original (1 h); `?redirect=true` answers 302 to it."""
    return download_file(photo_id, FileKind.ORIGINAL, request, caller, runtime, db, redirect)


@router.get("/{photo_id}/download/{kind}", responses=errors(400, 401, 403, 404, 422))
def download_file(
    photo_id: PhotoId,
    kind: FileKind,
    request: Request,
    caller: UserCaller,
    runtime: RuntimeDep,
    db: Db,
    redirect: bool = False,
) -> Response:
    """A pre-signed URL of one file of the photo (original, edited version, Live video…), for 1 h."""
    photo = gallery.get_photo(db, user_id=caller.user_id, photo_id=parse_uuid(photo_id, "photo id"))
    row = files.find_file(db, photo_id=photo.id, kind=kind)
    if row is None or row.object_key is None:
        if kind is FileKind.ORIGINAL:
            raise NotFound("the original has not been uploaded yet", code="original_not_uploaded")
        raise NotFound(f"no {kind.value} of this photo on the server", code="version_not_found")
    return presigned(request, runtime, row.object_key, redirect=redirect, filename=row.filename or None)


@router.get("/{photo_id}/thumbnail/{size}", responses=errors(400, 401, 403, 404))
def thumbnail(
    photo_id: PhotoId,
    size: Annotated[str, Path(json_schema_extra={"enum": list(THUMBNAIL_SIZES)})],
    request: Request,
    caller: UserCaller,
    runtime: RuntimeDep,
    db: Db,
    redirect: bool = False,
) -> Response:
    """A pre-signed URL of the small (200 px), medium (600) or large (1200) thumbnail (1 h)."""
    if size not in THUMBNAIL_SIZES:
        raise BadRequest(f"size must be one of {', '.join(THUMBNAIL_SIZES)}", code="invalid_size")
    photo = gallery.get_photo(db, user_id=caller.user_id, photo_id=parse_uuid(photo_id, "photo id"))
    key = getattr(photo, f"thumbnail_{size}_key")
    if key is None:
        raise NotFound(
            f"the {size} thumbnail is not ready (status: {photo.thumbnail_status})",
            code="thumbnail_not_ready",
        )
    return presigned(request, runtime, key, redirect=redirect)
