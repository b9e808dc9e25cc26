"""Sync logs: one row per finished (or failed) device call."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session as DbSession

from image_assistant.db.models import Device, SyncLog
from image_assistant.errors import AppError

_LOG_SYNC = insert(SyncLog)
_MARK_SYNCED = (
    update(Device).where(Device.id == bindparam("device_id")).values(last_sync_at=bindparam("completed_at"))
)


def log_sync(
    db: DbSession,
    *,
    device_id: uuid.UUID,
    sync_type: str,
    started_at: datetime,
    errors: Sequence[dict[str, Any]] = (),
    **counts: int,
) -> None:
    """One sync_logs row for a finished call, and the device marked as just synced."""
    completed_at = datetime.now(UTC)
    connection = db.connection()
    connection.execute(
        _LOG_SYNC,
        {
            "id": uuid.uuid4(),
            "device_id": device_id,
            "sync_type": sync_type,
            "started_at": started_at,
            "completed_at": completed_at,
            "errors": list(errors),
            "errors_count": len(errors),
            **counts,  # the counts not given take their column default, 0
        },
    )
    connection.execute(_MARK_SYNCED, {"device_id": device_id, "completed_at": completed_at})


@contextmanager
def failures_logged(
    db: DbSession, *, device_id: uuid.UUID, sync_type: str, photos_uuid: str | None = None
) -> Iterator[None]:
    """A call that fails with an AppError still leaves a sync log, apart from its rolled-back work."""
    try:
        yield
    except AppError as error:
        db.rollback()
        log_sync(
            db,
            device_id=device_id,
            sync_type=sync_type,
            started_at=datetime.now(UTC),
            errors=[{"photos_uuid": photos_uuid, "code": error.code, "message": error.message}],
        )
        db.commit()
        raise


def recent_logs(
    db: DbSession, *, user_id: uuid.UUID, device_id: uuid.UUID | None, limit: int = 20
) -> list[SyncLog]:
    query = select(SyncLog).join(Device, Device.id == SyncLog.device_id).where(Device.user_id == user_id)
    if device_id is not None:
        query = query.where(SyncLog.device_id == device_id)
    return list(db.scalars(query.order_by(SyncLog.started_at.desc()).limit(limit)))
