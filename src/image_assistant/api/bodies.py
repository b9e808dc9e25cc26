"""Reading request bodies: JSON into a model, and a streamed body as a file-like object."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any, TypeVar

import anyio.from_thread
from anyio.lowlevel import EventLoopToken
from fastapi import Depends, Request
from pydantic import BaseModel, ValidationError

from image_assistant.api.errors import unprocessable
from image_assistant.core.records import canonical_photos_uuid, check_sha256
from image_assistant.core.uploads import VerifiedReader
from image_assistant.errors import BadRequest

Model = TypeVar("Model", bound=BaseModel)
HANDOFF_BYTES = 1024 * 1024


def parse_json(raw: bytes, model: type[Model]) -> Model:
    """Validate a JSON body; malformed JSON is 400, wrong fields are 422."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        if any(error["type"] == "json_invalid" for error in exc.errors()):
            raise BadRequest("the body is not valid JSON", code="malformed_json") from exc
        raise unprocessable(exc) from exc


async def json_body(request: Request, model: type[Model]) -> Model:
    return parse_json(await request.body(), model)


def blocking_chunks(request: Request, loop: EventLoopToken) -> Iterator[bytes]:
    """The request body, chunk by chunk, for code running in any thread.

    Each chunk is fetched from the event loop (`loop`, taken with
    `anyio.lowlevel.current_token()` in the request's task) as the reader asks for it,
    so the body is never held whole in memory; store adapters may read from threads of
    their own (boto3 does).
    """
    stream: AsyncIterator[bytes] = request.stream()

    async def next_run() -> list[bytes]:
        """About 1 MiB of body per hop between threads, as the server's pieces (never joined)."""
        pieces: list[bytes] = []
        size = 0
        async for piece in stream:
            if piece:
                pieces.append(piece)
                size += len(piece)
            if size >= HANDOFF_BYTES:
                break
        return pieces

    while pieces := anyio.from_thread.run(next_run, token=loop):
        yield from pieces


def JsonBody(model: type[Model]) -> Any:  # noqa: N802 - reads as a type in signatures
    """A dependency giving the validated JSON body, so the route itself can stay sync."""

    async def read(request: Request) -> Model:
        return parse_json(await request.body(), model)

    return Depends(read)


def path_photos_uuid(value: str) -> str:
    """A photos_uuid from a URL path, canonical, or a 400."""
    try:
        return canonical_photos_uuid(value)
    except ValueError as exc:
        raise BadRequest("photos_uuid must be a UUID", code="invalid_id") from exc


def declared_sha256(value: str | None) -> str:
    """The SHA-256 a body is declared to have (header or metadata), checked, or a 400."""
    if not value:
        raise BadRequest("send the body's SHA-256 in X-Content-SHA256", code="checksum_required")
    try:
        return check_sha256(value)
    except ValueError as exc:
        raise BadRequest("X-Content-SHA256 must be 64 hex digits", code="invalid_checksum") from exc


def verified_body(
    request: Request, loop: EventLoopToken, *, expected_sha256: str, max_bytes: int
) -> VerifiedReader:
    """The streamed request body as a reader that enforces length, limit and SHA-256."""
    length = request.headers.get("content-length")
    if length is not None and not length.isdigit():
        raise BadRequest("Content-Length is not a number", code="length_mismatch")
    return VerifiedReader(
        blocking_chunks(request, loop),
        expected_sha256=expected_sha256,
        expected_length=int(length) if length is not None else None,
        max_bytes=max_bytes,
    )
