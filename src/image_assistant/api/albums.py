"""Albums with their folder path, count and cover; one album with a page of photos."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Response

from image_assistant.api.deps import Db, UserCaller, parse_uuid
from image_assistant.api.docs import AlbumId, errors
from image_assistant.api.shapes import album_json, json_response, photo_json
from image_assistant.core import gallery

router = APIRouter(prefix="/api/albums", tags=["albums"])


@router.get("", responses=errors(401, 403))
def list_albums(caller: UserCaller, db: Db) -> dict[str, Any]:
    entries = gallery.list_albums(db, user_id=caller.user_id)
    return {"albums": [album_json(e.album, e.photo_count, e.cover) for e in entries]}


@router.get("/{album_id}", responses=errors(400, 401, 403, 404, 422))
def get_album(
    album_id: AlbumId,
    caller: UserCaller,
    db: Db,
    limit: int = Query(default=100, ge=1, le=500),
    cursor: str | None = Query(default=None, max_length=512),
) -> Response:
    album = gallery.get_album(db, user_id=caller.user_id, album_id=parse_uuid(album_id, "album id"))
    page = gallery.album_photos(db, album=album, after=cursor, limit=limit)
    body = album_json(album, gallery.album_photo_count(db, album=album))
    body["photos"] = [photo_json(p) for p in page.photos]
    body["next_cursor"] = page.next_cursor
    return json_response(body)
