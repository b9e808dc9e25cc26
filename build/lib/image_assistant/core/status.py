"""What the Sync page, `GET /api/sync/status` and agents read: totals, uploads waiting, thumbnails."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session as DbSession

from image_assistant.core import files
from image_assistant.db.models import Album, Photo


def status_counts(db: DbSession, *, user_id: uuid.UUID, device_id: uuid.UUID | None) -> dict[str, Any]:
    """Totals and thumbnail states, for a user or one of their devices."""
    scope = [Photo.user_id == user_id, Photo.deleted_at.is_(None)]
    if device_id is not None:
        scope.append(Photo.device_id == device_id)
    thumbs = dict.fromkeys(("pending", "processing", "completed", "failed"), 0)
    for status, count in db.execute(
        select(Photo.thumbnail_status, func.count())
        .where(*scope, Photo.thumbnail_source_key.is_not(None))
        .group_by(Photo.thumbnail_status)
    ):
        thumbs[status] = int(count)
    total = int(db.scalar(select(func.count()).select_from(Photo).where(*scope)) or 0)
    album_scope = [Album.user_id == user_id]
    if device_id is not None:
        album_scope.append(Album.device_id == device_id)
    albums = int(db.scalar(select(func.count()).select_from(Album).where(*album_scope)) or 0)
    stored, pending = files.original_counts(db, scope)
    return {
        "photos": total,
        "albums": albums,
        "originals_stored": stored,
        "pending_uploads": pending,
        "thumbnails": thumbs,
    }
