"""The one exception tree of the server; one handler (api/errors.py) maps each to the JSON shape.

AppError (status, code)
├── BadRequest              400  malformed input, invalid ids, bad codes
│   ├── ChecksumMismatch    400  uploaded bytes differ from the declared SHA-256
│   └── InvalidKey          400  an object key that is not safe (store.keys.validate_key)
├── Unauthorized            401  missing, expired, tampered or revoked credentials
├── Forbidden               403  signed in, but not allowed (admin-only, bad signature)
├── NotFound                404  unknown id, or another user's id
│   └── ObjectNotFound      404  the store holds no object at the key
├── Conflict                409  the resource already exists, or changed meanwhile
│   └── OperationRefused    409  an operations command refuses to start (migrate-storage)
├── Gone                    410  it existed and ended (a used or expired link, a revoked share)
├── PayloadTooLarge         413  body over the configured limit
├── UnsupportedMediaType    415  a body type the endpoint does not take
├── Unprocessable           422  well-formed but invalid fields
├── TooManyAttempts         429  too many tries (pairing codes, passwords, requests): wait `retry_after` s
├── Unavailable             503  a backing service (database, store, queue) is unreachable
│   └── QueueUnavailable    503  the queue's storage (SQLite file or Redis) did not answer
└── OperationFailed         500  an operations command (mount, verify, export) could not finish

Adapters raise these classes; errors of their libraries (boto3, redis, SQLAlchemy) are mapped
where they enter (store/s3.py, thumbnails/queue.py, db/session.py `database_error`).
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


class InvalidKey(BadRequest):
    code = "invalid_key"


class Unauthorized(AppError):
    status = 401
    code = "unauthorized"


class Forbidden(AppError):
    status = 403
    code = "forbidden"


class NotFound(AppError):
    status = 404
    code = "not_found"


class ObjectNotFound(NotFound):
    code = "object_not_found"

    def __init__(self, key: str) -> None:
        super().__init__("the object is not in the store")
        self.key = key


class Conflict(AppError):
    status = 409
    code = "conflict"


class OperationRefused(Conflict):
    code = "operation_refused"


class Gone(AppError):
    status = 410
    code = "gone"


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

    def __init__(self, message: str, *, code: str | None = None, retry_after: int = 60) -> None:
        super().__init__(message, code=code)
        self.retry_after = max(1, retry_after)


class Unavailable(AppError):
    status = 503
    code = "service_unavailable"


class QueueUnavailable(Unavailable):
    code = "queue_unavailable"


class OperationFailed(AppError):
    code = "operation_failed"
