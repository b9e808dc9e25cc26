"""One JSON error shape for every failure: {"error": {"code", "message"}}."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from image_assistant.core.records import PATTERN_MESSAGES
from image_assistant.errors import AppError, Unprocessable
from image_assistant.store.base import InvalidKey, ObjectNotFound

log = logging.getLogger("image_assistant.api")

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


def error_response(status: int, code: str, message: str, details: Any = None) -> JSONResponse:
    return JSONResponse(error_body(code, message, details), status_code=status)


def validation_details(errors: Any) -> list[dict[str, Any]]:
    """Where and why, without echoing the input back (it may hold a password)."""
    return [{"loc": [str(part) for part in e.get("loc", ())], "message": _message(e)} for e in errors]


def _message(error: Any) -> str:
    if error.get("type") == "string_pattern_mismatch":
        return PATTERN_MESSAGES.get(error.get("ctx", {}).get("pattern"), "has the wrong form")
    return str(error.get("msg", "invalid"))


def unprocessable(exc: ValidationError) -> Unprocessable:
    return Unprocessable("the request body is not valid", details=validation_details(exc.errors()))


def install(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_: Request, exc: AppError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.details)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(
            422, "validation_error", "the request is not valid", validation_details(exc.errors())
        )

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        return error_response(exc.status_code, code, str(exc.detail))

    @app.exception_handler(InvalidKey)
    async def _invalid_key(_: Request, exc: InvalidKey) -> JSONResponse:
        return error_response(400, "invalid_key", str(exc))

    @app.exception_handler(ObjectNotFound)
    async def _missing_object(_: Request, exc: ObjectNotFound) -> JSONResponse:
        return error_response(404, "object_not_found", "the object is not in the store")

    @app.exception_handler(ClientDisconnect)
    async def _disconnect(_: Request, exc: ClientDisconnect) -> JSONResponse:
        return error_response(400, "client_disconnected", "the body ended early")

    @app.exception_handler(IntegrityError)
    async def _integrity(_: Request, exc: IntegrityError) -> JSONResponse:
        log.warning("integrity error: %s", type(exc.orig).__name__)
        return error_response(409, "conflict", "a concurrent change conflicted; retry")

    @app.exception_handler(OperationalError)
    async def _operational(_: Request, exc: OperationalError) -> JSONResponse:
        log.error("database unavailable: %s", type(exc.orig).__name__)
        return error_response(503, "database_unavailable", "the database is not reachable; retry")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(500, "internal_error", "something went wrong on the server")
