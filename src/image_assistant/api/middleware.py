"""ASGI middleware: request body size limits and an access log without query strings."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from image_assistant.api.errors import error_body
from image_assistant.errors import PayloadTooLarge

access_log = logging.getLogger("image_assistant.access")


def _is_upload(method: str, path: str, content_type: str) -> bool:
    if method == "PUT" and path.startswith("/api/sync/photos/"):
        return True
    if method == "PATCH" and path.startswith("/api/sync/uploads/"):
        return True
    return method == "POST" and path == "/api/sync/photos" and content_type.startswith("multipart/")


class BodyLimit:
    """413 for a body over the limit: uploads get MAX_UPLOAD_BYTES, all else MAX_JSON_BYTES."""

    def __init__(self, app: ASGIApp, *, upload_limit: int, json_limit: int) -> None:
        self.app = app
        self.upload_limit = upload_limit
        self.json_limit = json_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        upload = _is_upload(scope["method"], scope["path"], headers.get("content-type", ""))
        limit = self.upload_limit if upload else self.json_limit
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _reject(send, limit)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise PayloadTooLarge(f"the body is larger than the limit of {limit} bytes")
            return message

        await self.app(scope, counted, send)


async def _reject(send: Send, limit: int) -> None:
    message = f"the body is larger than the limit of {limit} bytes"
    await _answer(send, 413, "payload_too_large", message, close=True)


async def _answer(send: Send, status: int, code: str, message: str, *, close: bool = False) -> None:
    headers = [(b"content-type", b"application/json")]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": json.dumps(error_body(code, message)).encode()})


class RequestChecks:
    """Refuse what no route should see: a NUL character in the path or the query (400)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and ("\x00" in scope["path"] or b"%00" in scope["query_string"]):
            await _answer(send, 400, "invalid_character", "the address contains a NUL character")
            return
        await self.app(scope, receive, send)


class AccessLog:
    """One line per request: method, path (never the query: it may hold a signature), status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: dict[str, Any] = {"code": 0}

        async def record(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            access_log.info(
                "%s %s %s %.1fms",
                scope["method"],
                scope["path"],
                status["code"],
                (time.perf_counter() - started) * 1000,
            )
