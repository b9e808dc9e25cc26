"""Sync logs: one row per finished (or failed) device call, grouped into sync passes to read."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
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


# Calls of one device closer together than this belong to one sync pass: an agent's pass
# sends metadata, albums and files back to back, and passes are minutes apart at the least.
PASS_GAP = timedelta(minutes=5)
PASS_WINDOW_ROWS = 5_000  # the newest logs read to build passes from


@dataclass
class SyncPass:
    """A device's calls with no pause longer than PASS_GAP between them."""

    device_id: uuid.UUID
    started_at: datetime
    completed_at: datetime
    calls: int = 0
    photos_sent: int = 0  # metadata records sent (created + updated + unchanged)
    created: int = 0
    updated: int = 0
    albums: int = 0
    files_uploaded: int = 0
    bytes_uploaded: int = 0
    errors_count: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def add(self, log: SyncLog) -> None:
        self.calls += 1
        self.started_at = min(self.started_at, log.started_at)
        self.completed_at = max(self.completed_at, log.completed_at or log.started_at)
        if log.sync_type == "photos":
            self.photos_sent += log.created_count + log.updated_count + log.unchanged_count
            self.created += log.created_count
            self.updated += log.updated_count
        elif log.sync_type == "albums":
            self.albums += log.albums_synced
        elif log.sync_type == "upload" and not log.errors_count:
            self.files_uploaded += log.photos_synced
            self.bytes_uploaded += log.bytes_received
        self.errors_count += log.errors_count
        self.errors.extend((log.errors or [])[: max(0, 20 - len(self.errors))])


def sync_passes(
    db: DbSession, *, user_id: uuid.UUID, device_id: uuid.UUID | None, limit: int = 20
) -> list[SyncPass]:
    """The newest sync passes, newest first: each device's logs grouped by PASS_GAP."""
    query = (
        select(SyncLog)
        .join(Device, Device.id == SyncLog.device_id)
        .where(Device.user_id == user_id)
        .order_by(SyncLog.started_at.desc())
        .limit(PASS_WINDOW_ROWS)
    )
    if device_id is not None:
        query = query.where(SyncLog.device_id == device_id)
    open_passes: dict[uuid.UUID, SyncPass] = {}
    passes: list[SyncPass] = []
    for log in db.scalars(query):
        current = open_passes.get(log.device_id)
        ended = log.completed_at or log.started_at
        if current is None or current.started_at - ended > PASS_GAP:
            current = SyncPass(log.device_id, log.started_at, ended)
            open_passes[log.device_id] = current
            passes.append(current)
        current.add(log)
    passes.sort(key=lambda p: p.started_at, reverse=True)
    return passes[:limit]
