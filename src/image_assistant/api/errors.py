"""One JSON error shape for every failure: {"error": {"code", "message", "details"?}}.

`install` registers one handler for every exception a request can end in; `app_error` turns
each into the AppError of errors.py that stands for it.
"""

from __future__ import annotations

import functools
import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from image_assistant.core.records import validation_details
from image_assistant.db.session import database_error
from image_assistant.errors import AppError, BadRequest, TooManyAttempts, Unprocessable

log = logging.getLogger("image_assistant.api")

# A share link's token is a password: it is blanked wherever a path is logged.
_SHARE_TOKEN = re.compile(r"^(/api/shares/|/s/)[^/]+")


def loggable_path(path: str) -> str:
    """The request path with a share token blanked out."""
    return _SHARE_TOKEN.sub(r"\1***", path)


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return {"error": error}


def app_error(request: Request, exc: Exception) -> AppError:
    """The AppError an exception stands for (logged when it is the server's fault)."""
    if isinstance(exc, AppError):
        return exc
    if isinstance(exc, RequestValidationError):
        return Unprocessable("the request is not valid", details=validation_details(exc.errors()))
    if isinstance(exc, HTTPException):
        error = AppError(str(exc.detail), code=_HTTP_CODES.get(exc.status_code, "http_error"))
        error.status = exc.status_code
        return error
    if isinstance(exc, ClientDisconnect):
        return BadRequest("the body ended early", code="client_disconnected")
    if isinstance(exc, SQLAlchemyError) and (mapped := database_error(exc)) is not None:
        log.warning(
            "database error on %s %s: %s", request.method, loggable_path(request.url.path), mapped.code
        )
        return mapped
    log.error(
        "unexpected error on %s %s: %s",
        request.method,
        loggable_path(request.url.path),
        type(exc).__name__,
        exc_info=exc,
    )
    return AppError("something went wrong on the server")


async def _handle(request: Request, exc: Exception) -> JSONResponse:
    error = app_error(request, exc)
    headers = exc.headers if isinstance(exc, HTTPException) else None
    if isinstance(error, TooManyAttempts):
        headers = {"Retry-After": str(error.retry_after)}
    if error.status == 405:
        headers = {**(headers or {}), "Allow": _allowed(request, (headers or {}).get("Allow", ""))}
    return JSONResponse(
        error_body(error.code, error.message, error.details), status_code=error.status, headers=headers
    )


def _allowed(request: Request, default: str) -> str:
    """The methods the document lists for this path (Starlette names only its first route's).

    A path that is one route's own literal path (/api/devices/register) lists that route's
    methods, not those of a route with an id in its place (/api/devices/{device_id}).
    """
    paths: dict[str, dict[str, Any]] = request.app.openapi().get("paths", {})
    path = request.url.path
    if path in paths:
        return ", ".join(sorted(method.upper() for method in paths[path]))
    methods = {
        method.upper()
        for template, operations in paths.items()
        if _template(template).fullmatch(path)
        for method in operations
    }
    return ", ".join(sorted(methods)) or default


@functools.cache
def _template(path: str) -> re.Pattern[str]:
    """A document's path (`/api/photos/{photo_id}`) as a pattern of the paths it stands for."""
    return re.compile(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)))


def install(app: FastAPI) -> None:
    for kind in (
        AppError,
        RequestValidationError,
        HTTPException,
        ClientDisconnect,
        SQLAlchemyError,
        Exception,
    ):
        app.add_exception_handler(kind, _handle)
