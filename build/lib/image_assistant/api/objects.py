"""Bytes behind the local store's pre-signed URLs (S3 serves its own)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import FileResponse

from image_assistant.api.deps import RuntimeDep
from image_assistant.api.docs import errors
from image_assistant.errors import NotFound, ObjectNotFound
from image_assistant.store.keys import KEY_PATTERN
from image_assistant.store.local import LocalStore

router = APIRouter(prefix="/api/objects", tags=["objects"])


@router.get("/{key:path}", responses=errors(400, 403, 404))
def get_object(
    key: Annotated[str, Path(json_schema_extra={"pattern": KEY_PATTERN})],
    runtime: RuntimeDep,
    expires: str = Query(default="", max_length=20),
    signature: str = Query(default="", max_length=128),
    filename: str | None = Query(default=None, max_length=512),
) -> FileResponse:
    store = runtime.store
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
