"""Pre-signed links to objects: as JSON, or as a 302 redirect when asked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from image_assistant.api.shapes import iso
from image_assistant.runtime import Runtime


def presigned_url(request: Request, runtime: Runtime, key: str, *, filename: str | None = None) -> str:
    """An absolute pre-signed URL of the object at `key`, valid PRESIGN_TTL."""
    url = runtime.store.presign_get(key, expires_in=runtime.settings.presign_ttl, filename=filename)
    if url.startswith("/"):
        url = str(request.base_url).rstrip("/") + url
    return url


def presigned(
    request: Request, runtime: Runtime, key: str, *, redirect: bool, filename: str | None = None
) -> Response:
    ttl = runtime.settings.presign_ttl
    url = presigned_url(request, runtime, key, filename=filename)
    if redirect:
        return RedirectResponse(url, status_code=302)
    body: dict[str, Any] = {
        "url": url,
        "expires_at": iso(datetime.now(UTC) + timedelta(seconds=ttl)),
    }
    return JSONResponse(body)
