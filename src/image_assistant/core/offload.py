"""What a device needs before it relies on the store for its originals: each one the server
holds, its SHA-256 and size as verified when it arrived, and whether the store has it now."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from image_assistant.core.files import POLICIES, FileKind
from image_assistant.db.models import Photo, PhotoFile
from image_assistant.store.base import ObjectStore

IN_ORIGINALS_FOLDER = (FileKind.ORIGINAL, FileKind.LIVE_VIDEO)  # what a library's originals/ holds


def stored_originals(db: DbSession, store: ObjectStore, *, user_id: uuid.UUID) -> list[dict[str, Any]]:
    """Every file of the user's photos that a library keeps in its originals folder (originals,
    Live videos) and the database says is stored, with `in_store`: the object is in the store's
    listing right now (a deleted or lost object shows as False)."""
    prefix = f"{POLICIES[FileKind.ORIGINAL].key_prefix}/{uuid.UUID(str(user_id))}/"
    listed = set(store.list_keys(prefix))
    rows = db.execute(
        select(Photo.photos_uuid, PhotoFile.kind, PhotoFile.object_key, PhotoFile.sha256, PhotoFile.size)
        .join(PhotoFile, PhotoFile.photo_id == Photo.id)
        .where(
            Photo.user_id == user_id,
            Photo.deleted_at.is_(None),
            PhotoFile.kind.in_([kind.value for kind in IN_ORIGINALS_FOLDER]),
            PhotoFile.object_key.is_not(None),
        )
        .order_by(Photo.photos_uuid, PhotoFile.kind)
    )
    return [
        {
            "photos_uuid": photos_uuid,
            "kind": kind,
            "path": str(key).removeprefix(prefix),
            "sha256": sha256,
            "size": size,
            "in_store": key in listed,
        }
        for photos_uuid, kind, key, sha256, size in rows
    ]
