"""`GET /health`: whether the database, the object store and the thumbnail queue answer."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from image_assistant.api.deps import RuntimeDep

router = APIRouter(tags=["health"])


@router.get("/health", responses={503: {"description": "a backing service is unreachable"}})
def health(runtime: RuntimeDep) -> JSONResponse:
    """Whether the database, the object store and the thumbnail queue answer."""
    checks: dict[str, Any] = {}
    try:
        with runtime.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["db"] = "ok"
    except Exception:
        checks["db"] = "unreachable"
    try:
        runtime.store.check()
        checks["store"] = "ok"
    except Exception:
        checks["store"] = "unreachable"
    try:
        checks["queue_jobs"] = runtime.queue.counts()
        checks["queue"] = "ok"
    except Exception:
        checks["queue"] = "unreachable"
    checks["queue_backend"] = runtime.queue.backend
    healthy = checks["db"] == "ok" and checks["store"] == "ok" and checks["queue"] == "ok"
    checks["status"] = "ok" if healthy else "degraded"
    return JSONResponse(checks, status_code=200 if healthy else 503)
