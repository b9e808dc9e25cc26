"""The application factory: one FastAPI app per Services (a process, or a test)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from sqlalchemy import text

from image_assistant import __version__
from image_assistant.api import albums, auth, devices, errors, objects, photos, sync, uploads, users
from image_assistant.api.deps import ServicesDep
from image_assistant.api.middleware import AccessLog, BodyLimit
from image_assistant.services import Services
from image_assistant.web import install as install_gallery


def create_app(services: Services) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        services.close()

    app = FastAPI(title="Image Assistant", version=__version__, lifespan=lifespan)
    app.state.services = services
    errors.install(app)
    for module in (auth, devices, sync, uploads, albums, photos, objects, users):
        app.include_router(module.router)
    app.add_api_route("/health", health, methods=["GET"], tags=["health"])
    install_gallery(app)
    settings = services.settings
    if settings.cors_origin:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=[o.strip() for o in settings.cors_origin.split(",") if o.strip()],
            allow_credentials=True,
            allow_methods=["*"],
            allow_headers=["*"],
        )
    app.add_middleware(BodyLimit, upload_limit=settings.max_upload_bytes, json_limit=settings.max_json_bytes)
    app.add_middleware(AccessLog)
    return app


def health(services: ServicesDep) -> JSONResponse:
    """Whether the database, the object store and the thumbnail queue answer."""
    checks: dict[str, Any] = {}
    try:
        with services.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["db"] = "ok"
    except Exception:
        checks["db"] = "unreachable"
    try:
        services.store.check()
        checks["store"] = "ok"
    except Exception:
        checks["store"] = "unreachable"
    try:
        checks["queue_jobs"] = services.queue.counts()
        checks["queue"] = "ok"
    except Exception:
        checks["queue"] = "unreachable"
    checks["queue_backend"] = services.queue.backend
    healthy = checks["db"] == "ok" and checks["store"] == "ok" and checks["queue"] == "ok"
    checks["status"] = "ok" if healthy else "degraded"
    return JSONResponse(checks, status_code=200 if healthy else 503)
