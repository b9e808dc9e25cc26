"""The timeline, one photo, and pre-signed links to its versions and thumbnails."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session as DbSession

from image_assistant.api.deps import Db, ServicesDep, UserCaller, parse_uuid
from image_assistant.api.links import presigned
from image_assistant.api.shapes import json_response, photo_json
from image_assistant.core import binaries, gallery
from image_assistant.db.models import Photo
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
    """A pre-signed URL of the original (1 h)."""
    return download_version(photo_id, "original", request, caller, services, db, redirect)


@router.get("/{photo_id}/download/{version}")
def download_version(
    photo_id: str,
    version: Literal["original", "edited", "live_video"],
    request: Request,
    caller: UserCaller,
    services: ServicesDep,
    db: Db,
    redirect: bool = False,
) -> Response:
    """A pre-signed URL of the original, the current edited version or the Live video (1 h)."""
    photo = gallery.get_photo(db, user_id=caller.user_id, photo_id=parse_uuid(photo_id, "photo id"))
    key, filename = _stored_version(db, photo, version)
    return presigned(request, services, key, redirect=redirect, filename=filename or None)


def _stored_version(db: DbSession, photo: Photo, version: str) -> tuple[str, str]:
    """The object key and file name of a version the server holds."""
    if version == "original":
        if photo.original_key is None:
            raise NotFound("the original has not been uploaded yet", code="original_not_uploaded")
        return photo.original_key, photo.filename
    row = binaries.find_binary(db, photo=photo, kind=version)
    if row is None or row.object_key is None:
        raise NotFound(f"no {version} of this photo on the server", code="version_not_found")
    return row.object_key, row.filename


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
