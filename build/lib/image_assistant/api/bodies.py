"""Reading request bodies: JSON into a model (as a dependency), and a streamed body in chunks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any, TypeVar

import anyio.from_thread
from anyio.lowlevel import EventLoopToken
from fastapi import Depends, Request
from pydantic import BaseModel

from image_assistant.core.records import parse_json
from image_assistant.errors import BadRequest

Model = TypeVar("Model", bound=BaseModel)
HANDOFF_BYTES = 1024 * 1024


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


def content_length(request: Request) -> int | None:
    """The declared Content-Length, if any; 400 when it is not a number."""
    length = request.headers.get("content-length")
    if length is None:
        return None
    if not length.isdigit():
        raise BadRequest("Content-Length is not a number", code="length_mismatch")
    return int(length)


def JsonBody(model: type[Model]) -> Any:  # noqa: N802 - reads as a type in signatures
    """A dependency giving the validated JSON body (malformed JSON 400, wrong fields 422)."""

    async def read(request: Request) -> Model:
        return parse_json(await request.body(), model)

    return Depends(read)
