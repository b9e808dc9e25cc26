"""The application factory: one FastAPI app (API and gallery) per Runtime: a process, or a test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware

from image_assistant import __version__
from image_assistant.api import (
    account_links,
    albums,
    auth,
    devices,
    docs,
    errors,
    health,
    library,
    objects,
    photos,
    publish,
    setup,
    shares,
    sync,
    users,
)
from image_assistant.api.middleware import AccessLog, BodyLimit, RequestChecks
from image_assistant.runtime import Runtime
from image_assistant.thumbnails.memory import bound_memory
from image_assistant.web import install as install_gallery


def create_app(runtime: Runtime) -> FastAPI:
    # The API renders too (publish renditions, share pages) and streams zips from thread-pool
    # threads: no libvips operation cache, few malloc arenas, as in the worker.
    bound_memory()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        runtime.close()

    app = FastAPI(title="Image Assistant", version=__version__, lifespan=lifespan)
    app.state.runtime = runtime
    errors.install(app)
    for module in (
        auth,
        setup,
        account_links,
        devices,
        sync,
        albums,
        photos,
        library,
        objects,
        users,
        health,
        publish,
        shares,
    ):
        app.include_router(module.router)
    install_gallery(app)
    docs.document(app)
    settings = runtime.settings
    # Text (the bundle, JSON pages of photos) shrinks 3-10x: it matters on a phone's network.
    # Pictures, videos, zips and originals are compressed already and pass through as they are.
    app.add_middleware(
        GZipMiddleware,
        minimum_size=1024,
        compresslevel=6,
        exclude_content_types=(*DEFAULT_EXCLUDED_CONTENT_TYPES, "image/*", "application/octet-stream"),
    )
    if settings.cors_origin:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=[o.strip() for o in settings.cors_origin.split(",") if o.strip()],
            allow_credentials=True,
            allow_methods=["*"],
            allow_headers=["*"],
        )
    app.add_middleware(BodyLimit, upload_limit=settings.max_upload_bytes, json_limit=settings.max_json_bytes)
    origins = tuple(o.strip() for o in settings.cors_origin.split(",") if o.strip())
    app.add_middleware(RequestChecks, allowed_origins=origins)
    app.add_middleware(AccessLog)
    return app
