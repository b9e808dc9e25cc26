"""JSON shapes of resources, shared by every route that returns them."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
from sqlalchemy import Row
from starlette.responses import Response

from image_assistant.core import devices as device_core
from image_assistant.core.gallery import LISTED_EXTRA, LISTED_NAMES, PhotoDetail
from image_assistant.core.synclog import SyncPass
from image_assistant.db.models import Album, Device, Photo, SyncLog, User
from image_assistant.store.keys import AVIF_SIZES

LISTED_ROW_NAMES = (*LISTED_NAMES, *LISTED_EXTRA)


def json_response(body: Any, *, status_code: int = 200) -> Response:
    """JSON rendered by orjson, past FastAPI's encoder: UUIDs as strings, datetimes as ISO 8601
    with UTC written Z (as `iso` writes them)."""
    content = orjson.dumps(body, option=orjson.OPT_UTC_Z)
    return Response(content, status_code=status_code, media_type="application/json")


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def local_time(taken_at: datetime | None, offset_minutes: int | None) -> str | None:
    """Capture time in the zone it was taken in, when known."""
    if taken_at is None:
        return None
    if offset_minutes is None:
        return iso(taken_at)
    return taken_at.astimezone(_zone(offset_minutes)).isoformat()


@functools.cache
def _zone(offset_minutes: int) -> timezone:
    return timezone(timedelta(minutes=offset_minutes))


def user_json(user: User) -> dict[str, Any]:
    return {"id": str(user.id), "username": user.username, "is_admin": user.is_admin}


def device_json(device: Device, *, photos: int | None = None, with_code: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(device.id),
        "name": device.name,
        "hardware_id": device.hardware_id,
        "platform": device.platform,
        "os_version": device.os_version,
        "status": device.status,
        "verified": device.verified,
        "last_sync_at": iso(device.last_sync_at),
        "created_at": iso(device.created_at),
    }
    if photos is not None:
        body["photos_synced"] = photos
    if with_code:
        live = device_core.code_is_live(device)
        body["verification_code"] = device.verification_code if live else None
        body["code_expires_at"] = iso(device.code_expires_at) if live else None
    return body


def photo_json(photo: Row[Any]) -> dict[str, Any]:
    """A photo from a row of core.gallery.LISTED (read once into a dict: a row's attributes cost
    more than the rest). created_at and updated_at stay datetimes, for json_response to render."""
    p = dict(zip(LISTED_ROW_NAMES, photo, strict=False))
    location = None
    if p["location_lat"] is not None and p["location_lng"] is not None:
        location = {"lat": p["location_lat"], "lng": p["location_lng"]}
    return {
        "id": p["id"],
        "photos_uuid": p["photos_uuid"],
        "filename": p["filename"],
        "content_type": p["content_type"],
        "media_type": p["media_type"],
        "width": p["width"],
        "height": p["height"],
        "file_size": p["file_size"],
        "taken_at": local_time(p["taken_at"], p["taken_tz_offset"]),
        "timezone": p["timezone"],
        "location": location,
        "is_favorite": p["is_favorite"],
        "is_hidden": p["is_hidden"],
        "has_original": bool(p["has_original"]),
        "has_edit": bool(p["has_edit"]),
        "playback": p["playback"] or ("pending" if p["media_type"] == "video" else None),
        "live_playback": p["live_playback"],
        "thumbnail_status": p["thumbnail_status"],
        "thumbnail_error": p["thumbnail_error"],
        "thumbnails": {
            "small": p["thumbnail_small_key"] is not None,
            "medium": p["thumbnail_medium_key"] is not None,
            "large": p["thumbnail_large_key"] is not None,
            **dict.fromkeys(AVIF_SIZES, bool(p["thumbnail_avif"])),
        },
        "burst_id": p["burst_id"],
        "burst_count": p["burst_count"],
        "deleted_at": p["deleted_at"],
        "created_at": p["created_at"],
        "updated_at": p["updated_at"],
    }


def photo_detail_json(detail: PhotoDetail) -> dict[str, Any]:
    """One photo as listed, with the facts in Photos and every stored file."""
    body = photo_json(detail.row)
    photo = detail.photo
    body.update(
        {
            "title": photo.title,
            "description": photo.description,
            "keywords": list(photo.keywords or []),
            "persons": list(photo.persons or []),
            "place": photo.place,
            "camera": photo.camera,
            "subtypes": list(photo.subtypes or []),
            "burst_key": photo.burst_key,
            "files": [
                {
                    "kind": f.kind,
                    "filename": f.filename,
                    "content_type": f.content_type,
                    "size": f.size,
                    "sha256": f.sha256,
                }
                for f in detail.files
            ],
        }
    )
    return body


def album_json(album: Album, photo_count: int, cover: Photo | None = None) -> dict[str, Any]:
    """An album; `photo_count` is what its listing shows (hidden and deleted photos are not)."""
    return {
        "id": str(album.id),
        "photos_uuid": album.photos_uuid,
        "title": album.title,
        "album_type": album.album_type,
        "folder_path": list(album.folder_path or []),
        "photo_count": photo_count,
        "cover": None if cover is None else {"id": str(cover.id), "thumbnail_status": cover.thumbnail_status},
        "updated_at": iso(album.updated_at),
    }


def sync_log_json(log: SyncLog) -> dict[str, Any]:
    return {
        "id": str(log.id),
        "device_id": str(log.device_id),
        "sync_type": log.sync_type,
        "photos_synced": log.photos_synced,
        "albums_synced": log.albums_synced,
        "created": log.created_count,
        "updated": log.updated_count,
        "unchanged": log.unchanged_count,
        "bytes_received": log.bytes_received,
        "errors_count": log.errors_count,
        "errors": log.errors or [],
        "started_at": iso(log.started_at),
        "completed_at": iso(log.completed_at),
    }


def sync_pass_json(sync_pass: SyncPass) -> dict[str, Any]:
    p = sync_pass
    return {
        "device_id": str(p.device_id),
        "started_at": iso(p.started_at),
        "completed_at": iso(p.completed_at),
        "duration_seconds": round((p.completed_at - p.started_at).total_seconds(), 3),
        "calls": p.calls,
        "photos_sent": p.photos_sent,
        "created": p.created,
        "updated": p.updated,
        "albums": p.albums,
        "files_uploaded": p.files_uploaded,
        "bytes_uploaded": p.bytes_uploaded,
        "errors_count": p.errors_count,
        "errors": p.errors,
    }
