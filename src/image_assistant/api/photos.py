"""The timeline, one photo, and pre-signed links to its original and thumbnails."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from image_assistant.api.deps import Db, ServicesDep, UserCaller, parse_uuid
from image_assistant.api.links import presigned
from image_assistant.api.shapes import json_response, photo_json
from image_assistant.core import gallery
from image_assistant.errors import BadRequest, NotFound
from image_assistant.store.keys import THUMBNAIL_SIZES

router = APIRouter(prefix="/api/photos", tags=["photos"])


@router.get("")
def list_photos(
    caller: UserCaller,
    db: Db,
    limit: int = Query(default=100, ge=1, le=500),
    cursor: str | None = Query(default=None, max_length=512),
    album_id: str | None = Query(default=None, max_length=64),
) -> Response:
    album = parse_uuid(album_id, "album_id") if album_id else None
    page = gallery.timeline(db, user_id=caller.user_id, album_id=album, after=cursor, limit=limit)
    return json_response({"photos": [photo_json(p) for p in page.photos], "next_cursor": page.next_cursor})


@router.get("/{photo_id}")
def get_photo(photo_id: str, caller: UserCaller, db: Db) -> Response:
    photo = gallery.get_photo(db, user_id=caller.user_id, photo_id=parse_uuid(photo_id, "photo id"))
    return json_response(photo_json(photo))


@router.get("/{photo_id}/download")
def download(
    photo_id: str,
    request: Request,
    caller: UserCaller,
    services: ServicesDep,
    db: Db,
    redirect: bool = False,
) -> Response:
    photo = gallery.get_photo(db, user_id=caller.user_id, photo_id=parse_uuid(photo_id, "photo id"))
    if photo.original_key is None:
        raise NotFound("the original has not been uploaded yet", code="original_not_uploaded")
    return presigned(
        request, services, photo.original_key, redirect=redirect, filename=photo.filename or None
    )


@router.get("/{photo_id}/thumbnail/{size}")
def thumbnail(
    photo_id: str,
    size: str,
    request: Request,
    caller: UserCaller,
    services: ServicesDep,
    db: Db,
    redirect: bool = False,
) -> Response:
    if size not in THUMBNAIL_SIZES:
        raise BadRequest(f"size must be one of {', '.join(THUMBNAIL_SIZES)}", code="invalid_size")
    photo = gallery.get_photo(db, user_id=caller.user_id, photo_id=parse_uuid(photo_id, "photo id"))
    key = getattr(photo, f"thumbnail_{size}_key")
    if key is None:
        raise NotFound(
            f"the {size} thumbnail is not ready (status: {photo.thumbnail_status})",
            code="thumbnail_not_ready",
        )
    return presigned(request, services, key, redirect=redirect)
