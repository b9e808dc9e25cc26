"""JSON shapes of resources, shared by every route that returns them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
from starlette.responses import Response

from image_assistant.core import devices as device_core
from image_assistant.db.models import Album, Device, Photo, SyncLog, User


def json_response(body: Any) -> Response:
    """Plain JSON rendered by orjson (UUIDs as strings), past FastAPI's encoder: for large answers."""
    return Response(orjson.dumps(body), media_type="application/json")


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def local_time(photo: Photo) -> str | None:
    """Capture time in the zone it was taken in, when known."""
    if photo.taken_at is None:
        return None
    if photo.taken_tz_offset is None:
        return iso(photo.taken_at)
    return photo.taken_at.astimezone(timezone(timedelta(minutes=photo.taken_tz_offset))).isoformat()


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


def photo_json(photo: Photo) -> dict[str, Any]:
    location = None
    if photo.location_lat is not None and photo.location_lng is not None:
        location = {"lat": photo.location_lat, "lng": photo.location_lng}
    return {
        "id": str(photo.id),
        "photos_uuid": photo.photos_uuid,
        "filename": photo.filename,
        "content_type": photo.content_type,
        "media_type": photo.media_type,
        "width": photo.width,
        "height": photo.height,
        "file_size": photo.file_size,
        "taken_at": local_time(photo),
        "timezone": photo.timezone,
        "location": location,
        "is_favorite": photo.is_favorite,
        "is_hidden": photo.is_hidden,
        "has_original": photo.original_key is not None,
        "thumbnail_status": photo.thumbnail_status,
        "thumbnail_error": photo.thumbnail_error,
        "thumbnails": {
            "small": photo.thumbnail_small_key is not None,
            "medium": photo.thumbnail_medium_key is not None,
            "large": photo.thumbnail_large_key is not None,
        },
        "created_at": iso(photo.created_at),
        "updated_at": iso(photo.updated_at),
    }


def album_json(album: Album, cover: Photo | None = None) -> dict[str, Any]:
    return {
        "id": str(album.id),
        "photos_uuid": album.photos_uuid,
        "title": album.title,
        "album_type": album.album_type,
        "folder_path": list(album.folder_path or []),
        "photo_count": album.photo_count,
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
