"""Bytes behind the local store's pre-signed URLs (S3 serves its own)."""

from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse

from image_assistant.api.deps import ServicesDep
from image_assistant.errors import NotFound
from image_assistant.store.base import ObjectNotFound

router = APIRouter(prefix="/api/objects", tags=["objects"])


@router.get("/{key:path}")
def get_object(
    key: str,
    services: ServicesDep,
    expires: str = Query(default="", max_length=20),
    signature: str = Query(default="", max_length=128),
    filename: str | None = Query(default=None, max_length=512),
) -> FileResponse:
    from image_assistant.store.local import LocalStore

    store = services.store
    if not isinstance(store, LocalStore):
        raise NotFound("objects are served by the object store", code="not_found")
    store.verify_presigned(key, expires, signature, filename)
    path = store.path_of(key)
    if not path.is_file():
        raise ObjectNotFound(key)
    info = store.head(key)
    return FileResponse(
        path,
        media_type=info.content_type,
        filename=filename,
        content_disposition_type="attachment",
        headers={"Cache-Control": "private, max-age=3600"},
    )
