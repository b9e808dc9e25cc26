"""ASGI middleware: request body size limits, gzip for text, and an access log without query strings."""

from __future__ import annotations

import json
import logging
import time
from typing import Any
from urllib.parse import urlsplit

from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from image_assistant.api.deps import SESSION_COOKIE
from image_assistant.api.errors import error_body, loggable_path
from image_assistant.errors import PayloadTooLarge

access_log = logging.getLogger("image_assistant.access")


def _is_upload(method: str, path: str, content_type: str) -> bool:
    if method == "PUT" and path.startswith("/api/sync/photos/"):
        return True
    if method == "PATCH" and path.startswith("/api/sync/uploads/"):
        return True
    return method == "POST" and path == "/api/sync/photos" and content_type.startswith("multipart/")


class Compress:
    """Text answers (the bundle, the HTML, JSON) gzipped for clients that accept it, over 1 KiB.
    Pictures, videos, zips and originals are compressed already and pass as they are; so does a
    206 answer to a Range request (Starlette's gzip leaves partial answers alone).

    The agent's calls (`/api/sync/...`) are answered as they are: a batch's answer is mostly
    photos_uuids and ids that shrink less than 3x, next to the files the agent then uploads, and
    compressing it cost ~1 ms of the ~10 ms of server CPU a batch of 100 records takes (bench/ingest.py).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.gzip = GZipMiddleware(
            app,
            minimum_size=1024,
            compresslevel=6,
            exclude_content_types=(*DEFAULT_EXCLUDED_CONTENT_TYPES, "image/*", "application/octet-stream"),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/api/sync/"):
            await self.app(scope, receive, send)
            return
        await self.gzip(scope, receive, send)


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


_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class RequestChecks:
    """Refuse what no route should see, before any route runs:

    - a NUL character in the path or the query (400 `invalid_character`);
    - a body that is not JSON sent to a JSON route (415): a form or `text/plain` POST, which a
      browser sends cross-site without asking, never reaches a route;
    - a state-changing request that rides on the session cookie (or signs in) from another
      origin than this server's or CORS_ORIGIN's (403 `cross_origin`): CSRF.
    """

    def __init__(self, app: ASGIApp, *, allowed_origins: tuple[str, ...] = ()) -> None:
        self.app = app
        self.allowed_origins = {o.rstrip("/").lower() for o in allowed_origins}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"] or b"%00" in scope["query_string"]:
            await _answer(send, 400, "invalid_character", "the address contains a NUL character")
            return
        method, path = scope["method"], scope["path"]
        if method not in _SAFE_METHODS and path.startswith("/api/"):
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            if _foreign_origin(headers, path, self.allowed_origins):
                await _answer(send, 403, "cross_origin", "this request comes from another site")
                return
            if _needs_json(method, path, headers):
                await _answer(send, 415, "unsupported_media_type", "send the body as application/json")
                return
        await self.app(scope, receive, send)


def _needs_json(method: str, path: str, headers: dict[str, str]) -> bool:
    content_type = headers.get("content-type", "")
    has_body = headers.get("content-length", "0") != "0" or "transfer-encoding" in headers
    if not has_body or _is_upload(method, path, content_type):
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return not (media == "application/json" or (media.startswith("application/") and media.endswith("+json")))


# Routes that start a session without one: a foreign page must not sign a browser in either.
_SIGN_IN_PATHS = frozenset({"/api/auth/login", "/api/setup", "/api/account-links/use"})


def _foreign_origin(headers: dict[str, str], path: str, allowed: set[str]) -> bool:
    """A cookie-authenticated (or sign-in) request whose Origin is neither this host nor allowed."""
    cookie_auth = "authorization" not in headers and f"{SESSION_COOKIE}=" in headers.get("cookie", "")
    if not (cookie_auth or path in _SIGN_IN_PATHS):
        return False
    origin = headers.get("origin")
    if origin is None:  # browsers send Origin on every cross-site POST; older ones say Sec-Fetch-Site
        return headers.get("sec-fetch-site", "") == "cross-site"
    origin = origin.rstrip("/").lower()
    if origin in allowed:
        return False
    return urlsplit(origin).netloc != headers.get("host", "").lower()


class AccessLog:
    """One line per request: method, path (never the query: it may hold a signature; a share
    token blanked), status."""

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
                loggable_path(scope["path"]),
                status["code"],
                (time.perf_counter() - started) * 1000,
            )
