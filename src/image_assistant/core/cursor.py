"""Opaque keyset-pagination cursors: url-safe base64 of a small JSON object."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime
from typing import Any

from image_assistant.core.records import representable
from image_assistant.errors import BadRequest

MAX_INT = 2**31 - 1  # an album position is an INTEGER column


def encode(position: dict[str, Any]) -> str:
    raw = json.dumps(position, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode(cursor: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw)
        if not isinstance(value, dict):
            raise ValueError("cursor is not an object")
        return value
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("cursor is not valid", code="invalid_cursor") from exc


def timeline_position(cursor: str) -> tuple[datetime, uuid.UUID]:
    value = decode(cursor)
    try:
        at = datetime.fromisoformat(value["t"])
        if at.tzinfo is None:
            raise ValueError("naive")
        return representable(at), uuid.UUID(value["i"])
    except (KeyError, TypeError, ValueError) as exc:
        raise BadRequest("cursor is not valid", code="invalid_cursor") from exc


def album_position(cursor: str) -> int:
    value = decode(cursor)
    position = value.get("p")
    if not isinstance(position, int) or isinstance(position, bool) or not 0 <= position <= MAX_INT:
        raise BadRequest("cursor is not valid", code="invalid_cursor")
    return position
