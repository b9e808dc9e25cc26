"""What /openapi.json says beyond FastAPI's own reading: bodies read by hand, ids, error answers.

Hot routes read their bodies themselves (one worker-thread hop, no double parse), so FastAPI
cannot see them: `json_body` and `binary_body` describe them, and `document` adds the models
they name to the document's components. `errors(...)` lists a route's error answers, all in
the one error shape.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import FastAPI, Path
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

_BODY_MODELS: dict[str, type[BaseModel]] = {}

_ERROR_MEANINGS = {
    400: "Malformed input: bad JSON, an id that is not a UUID, a bad checksum or code",
    401: "No valid credentials: missing, expired, revoked or tampered token",
    403: "Signed in, but not allowed (another kind of caller, not an administrator)",
    404: "No such resource (or another user's)",
    405: "Method not allowed (the Allow header lists the methods)",
    409: "Conflict: it exists already, or changed meanwhile (retry)",
    410: "Gone: it existed and ended (a used or expired one-time link, an expired or revoked share)",
    413: "The body is larger than the limit",
    415: "A body type the route does not take",
    422: "Well-formed, but a field is not valid (details say which)",
    429: "Too many attempts (Retry-After says when to try again)",
    503: "A backing service (database, store, queue) is unreachable; retry",
}


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorBody(BaseModel):
    """Every error answer: `{"error": {"code", "message", "details"?}}`."""

    error: ErrorDetail


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses` of a route that can answer these error statuses (503 is always possible)."""
    return {
        status: {"model": ErrorBody, "description": _ERROR_MEANINGS[status]}
        for status in sorted({*statuses, 503})
    }


def _ref(model: type[BaseModel]) -> dict[str, str]:
    _BODY_MODELS[model.__name__] = model
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def json_body(model: type[BaseModel], *, multipart: dict[str, Any] | None = None) -> dict[str, Any]:
    """`openapi_extra` for a route that reads a JSON body of `model` itself."""
    content: dict[str, Any] = {"application/json": {"schema": _ref(model)}}
    if multipart is not None:
        content["multipart/form-data"] = {"schema": multipart}
    return {"requestBody": {"required": True, "content": content}}


def photo_with_file(record: type[BaseModel]) -> dict[str, Any]:
    """The original contract's multipart form: one record as JSON text, and its original."""
    return {
        "type": "object",
        "required": ["metadata"],
        "properties": {
            "metadata": {
                "type": "string",
                "contentMediaType": "application/json",
                "description": f"a {record.__name__} as JSON",
            },
            "file": {"type": "string", "format": "binary"},
        },
    }


def binary_body(*, offset_header: bool = False) -> dict[str, Any]:
    """`openapi_extra` for a route that streams a file's bytes from its body."""
    header = (
        {
            "name": "Upload-Offset",
            "in": "header",
            "required": True,
            "schema": {"type": "integer", "minimum": 0},
            "description": "the offset these bytes start at: the one the server reported",
        }
        if offset_header
        else {
            "name": "X-Content-SHA256",
            "in": "header",
            "required": False,
            "schema": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"},
            "description": "the body's SHA-256 (for an original, the metadata's checksum_sha256 when absent)",
        }
    )
    body = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
    return {"requestBody": {"required": True, "content": body}, "parameters": [header]}


def _uuid_path(description: str) -> Any:
    return Path(description=description, json_schema_extra={"format": "uuid"})


# Path ids are read as text and parsed by the routes (a malformed one is 400 invalid_id, in the
# error shape); the document still says they are UUIDs.
PhotoId = Annotated[str, _uuid_path("the photo's id")]
AlbumId = Annotated[str, _uuid_path("the album's id")]
DeviceId = Annotated[str, _uuid_path("the device's id")]
UploadId = Annotated[str, _uuid_path("the resumable upload's id")]
PhotosUuid = Annotated[str, _uuid_path("the photo's id in Photos.app (photos_uuid)")]
SetId = Annotated[str, _uuid_path("the publish set's id")]
ShareToken = Annotated[str, Path(description="the share link's token", min_length=1, max_length=128)]


def _one_error_shape(schema: dict[str, Any]) -> None:
    """FastAPI documents its own 422 body; ours is the one error shape, like every other error."""
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            invalid = operation.get("responses", {}).get("422")
            if invalid is not None:
                invalid["content"] = error
    for name in ("HTTPValidationError", "ValidationError"):
        schema["components"]["schemas"].pop(name, None)


def document(app: FastAPI) -> None:
    """Generate /openapi.json with the hand-read bodies' models among its schemas."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for name, model in _BODY_MODELS.items():
                found = model.model_json_schema(ref_template="#/components/schemas/{model}")
                components.update(found.pop("$defs", {}))
                components[name] = found
            _one_error_shape(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend it
