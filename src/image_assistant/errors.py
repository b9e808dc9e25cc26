"""The exception tree of the core; the API maps each to one JSON error shape.

AppError (status, code)
├── BadRequest            400  malformed input, invalid ids, bad codes
│   └── ChecksumMismatch  400  uploaded bytes differ from the declared SHA-256
├── Unauthorized          401  missing, expired, tampered or revoked credentials
├── Forbidden             403  signed in, but not allowed (admin-only, bad signature)
├── NotFound              404  unknown id, or another user's id
├── Conflict              409  the resource already exists
├── PayloadTooLarge       413  body over the configured limit
├── UnsupportedMediaType  415  a body type the endpoint does not take
├── Unprocessable         422  well-formed but invalid fields
├── TooManyAttempts       429  a pairing code burnt by wrong tries
└── Unavailable           503  a backing service (database, store) is unreachable
"""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    status = 500
    code = "internal_error"

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details


class BadRequest(AppError):
    status = 400
    code = "bad_request"


class ChecksumMismatch(BadRequest):
    code = "checksum_mismatch"


class Unauthorized(AppError):
    status = 401
    code = "unauthorized"


class Forbidden(AppError):
    status = 403
    code = "forbidden"


class NotFound(AppError):
    status = 404
    code = "not_found"


class Conflict(AppError):
    status = 409
    code = "conflict"


class PayloadTooLarge(AppError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(AppError):
    status = 415
    code = "unsupported_media_type"


class Unprocessable(AppError):
    status = 422
    code = "validation_error"


class TooManyAttempts(AppError):
    status = 429
    code = "too_many_attempts"


class Unavailable(AppError):
    status = 503
    code = "service_unavailable"
