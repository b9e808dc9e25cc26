"""The application factory: one FastAPI app (API and gallery) per Runtime: a process, or a test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

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
from image_assistant.api.middleware import AccessLog, BodyLimit, Compress, RequestChecks
from image_assistant.runtime import Runtime
from image_assistant.thumbnails.memory import bound_memory
from image_assistant.web import install as install_gallery


def create_app(runtime: Runtime) -> FastAPI:
    # The API renders too (publish renditions, share pages) and streams zips from thread-pool
    # threads: few malloc arenas, as in the worker (libvips, loaded on first render, caches nothing).
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
    app.add_middleware(Compress)  # text shrinks 3-10x: it matters on a phone's network
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
