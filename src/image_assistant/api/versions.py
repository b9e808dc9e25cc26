"""Downloads of a photo's other versions: the edited one and a Live Photo's video."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response

from image_assistant.api.deps import Db, ServicesDep, UserCaller, parse_uuid
from image_assistant.api.links import presigned
from image_assistant.core import binaries, gallery
from image_assistant.errors import NotFound

router = APIRouter(prefix="/api/photos", tags=["photos"])


@router.get("/{photo_id}/download/{version}")
def download_version(
    photo_id: str,
    version: Literal["edited", "live_video"],
    request: Request,
    caller: UserCaller,
    services: ServicesDep,
    db: Db,
    redirect: bool = False,
) -> Response:
    """A pre-signed URL of the current edited version or the Live video (1 h)."""
    photo = gallery.get_photo(db, user_id=caller.user_id, photo_id=parse_uuid(photo_id, "photo id"))
    row = binaries.find_binary(db, photo=photo, kind=version)
    if row is None or row.object_key is None:
        raise NotFound(f"no {version} of this photo on the server", code="version_not_found")
    return presigned(request, services, row.object_key, redirect=redirect, filename=row.filename or None)
