"""No photo stays without thumbnails: re-queue what was lost, and `rebuild` on request.

A job is lost when the queue was unreachable at upload time, or when a worker died mid-job
(SIGKILL, OOM, a power cut). The reconciler finds photos `pending` for longer than
THUMBNAIL_STUCK_AFTER, or `processing` with a claim older than THUMBNAIL_LEASE (thumbnails/lease.py),
and enqueues them again; one that already used all its attempts is marked `failed` instead, so
an input that kills its worker cannot crash-loop. The backfill makes the sizes added since a
photo was thumbnailed (the AVIF ones), a batch at a time while no other thumbnail waits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, sessionmaker
from sqlalchemy.orm import Session as DbSession

from image_assistant.db.models import Photo
from image_assistant.db.session import rows_changed
from image_assistant.store.keys import AVIF_SIZES
from image_assistant.thumbnails.jobs import enqueue
from image_assistant.thumbnails.queue import ThumbnailJob, ThumbnailQueue

log = logging.getLogger("image_assistant.thumbnails")
BATCH = 500
BACKFILL_BATCH = 50
RebuildScope = Literal["unfinished", "failed", "all"]


@dataclass
class ReconcileResult:
    requeued: int = 0
    failed: int = 0


def reconcile(
    *,
    sessions: sessionmaker[DbSession],
    queue: ThumbnailQueue,
    stuck_after: int,
    lease: int,
    max_attempts: int,
    now: datetime | None = None,
) -> ReconcileResult:
    """Re-queue photos pending for `stuck_after` seconds or processing under a lapsed lease (one batch)."""
    now = now or datetime.now(UTC)
    result = ReconcileResult()
    with sessions() as db:
        rows = db.execute(
            select(
                Photo.id,
                Photo.thumbnail_source_key,
                Photo.thumbnail_status,
                Photo.thumbnail_attempts,
                Photo.thumbnail_queued_at,
                Photo.thumbnail_started_at,
            )
            .where(
                Photo.thumbnail_source_key.is_not(None),
                Photo.deleted_at.is_(None),
                _stuck(now, stuck_after, lease),
            )
            .limit(BATCH)
        ).all()
    for photo_id, key, status, attempts, queued_at, started_at in rows:
        assert key is not None  # selected with thumbnail_source_key IS NOT NULL
        if status == "processing" and attempts >= max_attempts:
            if _give_up(sessions, photo_id, started_at, attempts):
                result.failed += 1
            continue
        if _take_over(sessions, photo_id, status, queued_at, started_at, now) and enqueue(
            queue, photo_id, key
        ):
            result.requeued += 1
    if result.requeued or result.failed:
        log.info("reconciler: %d photo(s) re-queued, %d given up", result.requeued, result.failed)
    return result


def backfill_avif(
    *, sessions: sessionmaker[DbSession], queue: ThumbnailQueue, batch: int = BACKFILL_BATCH
) -> int:
    """Queue the AVIF sizes of up to `batch` photos thumbnailed before they existed; none while a
    photo's thumbnails wait (uploads first, and the queue never fills with backfill). Returns how many."""
    with sessions() as db:
        waiting = db.scalar(
            select(Photo.id).where(Photo.thumbnail_status.in_(("pending", "processing"))).limit(1)
        )
        if waiting is not None:
            return 0
        rows = db.execute(
            select(Photo.id, Photo.thumbnail_source_key)
            .where(
                Photo.thumbnail_status == "completed",
                Photo.thumbnail_avif.is_(False),
                Photo.thumbnail_small_key.is_not(None),
                Photo.thumbnail_source_key.is_not(None),
                Photo.deleted_at.is_(None),
            )
            .limit(batch)
        ).all()
    now, queued = datetime.now(UTC), 0
    for photo_id, key in rows:
        assert key is not None  # selected with thumbnail_source_key IS NOT NULL
        with sessions() as db, db.begin():
            taken = rows_changed(
                db.execute(
                    update(Photo)
                    .where(Photo.id == photo_id, Photo.thumbnail_status == "completed")
                    .values(thumbnail_status="pending", thumbnail_attempts=0, thumbnail_queued_at=now)
                )
            )
        if taken and enqueue(queue, photo_id, key, AVIF_SIZES):
            queued += 1
    if queued:
        log.info("backfill: AVIF thumbnails of %d photo(s) queued", queued)
    return queued


def _stuck(now: datetime, stuck_after: int, lease: int) -> ColumnElement[bool]:
    queued_before, renewed_before = now - timedelta(seconds=stuck_after), now - timedelta(seconds=lease)
    pending = and_(
        Photo.thumbnail_status == "pending",
        or_(Photo.thumbnail_queued_at.is_(None), Photo.thumbnail_queued_at < queued_before),
    )
    processing = and_(
        Photo.thumbnail_status == "processing",
        or_(Photo.thumbnail_started_at.is_(None), Photo.thumbnail_started_at < renewed_before),
    )
    return or_(pending, processing)


def _same(column: InstrumentedAttribute[datetime | None], value: datetime | None) -> ColumnElement[bool]:
    return column.is_(None) if value is None else column == value


def _take_over(
    sessions: sessionmaker[DbSession],
    photo_id: object,
    status: str,
    queued_at: datetime | None,
    started_at: datetime | None,
    now: datetime,
) -> bool:
    """Mark the photo queued again, only if no other reconciler or worker touched it since."""
    with sessions() as db, db.begin():
        changed = rows_changed(
            db.execute(
                update(Photo)
                .where(
                    Photo.id == photo_id,
                    Photo.thumbnail_status == status,
                    _same(Photo.thumbnail_queued_at, queued_at),
                    _same(Photo.thumbnail_started_at, started_at),
                )
                .values(thumbnail_status="pending", thumbnail_queued_at=now, thumbnail_started_at=None)
            )
        )
    return bool(changed)


def _give_up(
    sessions: sessionmaker[DbSession], photo_id: object, started_at: datetime | None, attempts: int
) -> bool:
    reason = f"the worker stopped during each of {attempts} attempts (the file may crash the decoder)"
    with sessions() as db, db.begin():
        changed = rows_changed(
            db.execute(
                update(Photo)
                .where(
                    Photo.id == photo_id,
                    Photo.thumbnail_status == "processing",
                    _same(Photo.thumbnail_started_at, started_at),
                )
                .values(thumbnail_status="failed", thumbnail_error=reason, thumbnail_started_at=None)
            )
        )
    if changed:
        log.warning("thumbnails of photo %s failed: %s", photo_id, reason)
    return bool(changed)


def rebuild(*, sessions: sessionmaker[DbSession], queue: ThumbnailQueue, scope: RebuildScope) -> int:
    """Reset and enqueue the photos in `scope`: unfinished (pending/processing), failed, or all."""
    statuses = {"unfinished": ("pending", "processing"), "failed": ("failed",), "all": None}[scope]
    query = select(Photo.id, Photo.thumbnail_source_key).where(
        Photo.thumbnail_source_key.is_not(None), Photo.deleted_at.is_(None)
    )
    if statuses is not None:
        query = query.where(Photo.thumbnail_status.in_(statuses))
    count = 0
    with sessions() as db:
        rows = db.execute(query).all()
    now = datetime.now(UTC)
    for start in range(0, len(rows), BATCH):
        chunk = rows[start : start + BATCH]
        with sessions() as db, db.begin():
            db.execute(
                update(Photo)
                .where(Photo.id.in_([photo_id for photo_id, _ in chunk]))
                .values(
                    thumbnail_status="pending",
                    thumbnail_error=None,
                    thumbnail_attempts=0,
                    thumbnail_queued_at=now,
                    thumbnail_started_at=None,
                )
            )
        for photo_id, key in chunk:
            queue.enqueue(ThumbnailJob(str(photo_id), str(key)))
            count += 1
    return count


def state_counts(db: DbSession) -> dict[str, int]:
    """Photos with an original, per thumbnail state (every user)."""
    counts = dict.fromkeys(("pending", "processing", "completed", "failed"), 0)
    rows = db.execute(
        select(Photo.thumbnail_status, func.count())
        .where(Photo.thumbnail_source_key.is_not(None), Photo.deleted_at.is_(None))
        .group_by(Photo.thumbnail_status)
    )
    for status, count in rows:
        counts[status] = int(count)
    return counts
