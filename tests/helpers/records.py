"""Synthetic photo metadata for tests."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any


def photo_record(**overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "photos_uuid": str(uuid.uuid4()).upper(),
        "filename": "IMG_0001.JPG",
        "content_type": "image/jpeg",
        "media_type": "photo",
        "width": 4032,
        "height": 3024,
        "taken_at": "2024-06-01T12:00:00+02:00",
        "location_lat": 48.85,
        "location_lng": 2.35,
        "is_favorite": False,
    }
    record.update(overrides)
    return record


def records_over_days(count: int, start: datetime | None = None) -> list[dict[str, Any]]:
    """`count` records an hour apart, newest last."""
    start = start or datetime(2023, 1, 1, tzinfo=UTC)
    return [
        photo_record(taken_at=(start + timedelta(hours=i)).isoformat(), filename=f"IMG_{i:05d}.JPG")
        for i in range(count)
    ]


def body_and_sha(size: int = 50_000, seed: bytes = b"x") -> tuple[bytes, str]:
    body = (hashlib.sha256(seed).digest() * (size // 32 + 1))[:size]
    return body, hashlib.sha256(body).hexdigest()
