"""Leases on running jobs, so a job whose worker process is gone is re-queued within about a lease.

A claim stamps the photo's `thumbnail_started_at` (or the rendition's `started_at`) and sets it
`processing`. While a worker runs the job, a thread of that worker stamps it again every third
of THUMBNAIL_LEASE. The reconciler takes a `processing` job whose stamp is older than a lease
as lost (its worker was killed, or the machine went away) and queues it again; a job that only
takes long keeps its stamp fresh. A job taken off the Redis queue and not yet claimed is in its
worker's own list until then (queue.py). Jobs never queued (the queue was down) are THUMBNAIL_STUCK_AFTER's.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import update
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import sessionmaker

from image_assistant.db.models import Photo, PlaybackRendition
from image_assistant.thumbnails.playback import JOB_SOURCES
from image_assistant.thumbnails.queue import THUMBNAILS, ThumbnailJob

log = logging.getLogger("image_assistant.thumbnails")
Held = tuple[str, uuid.UUID]  # (job kind, photo id)


class Leases:
    """The jobs this process runs, and their renewal."""

    def __init__(self, sessions: sessionmaker[DbSession]) -> None:
        self._sessions = sessions
        self._held: Counter[Held] = Counter()
        self._lock = threading.Lock()

    @contextmanager
    def holding(self, job: ThumbnailJob) -> Iterator[None]:
        """Renew the job's claim while the block runs."""
        try:
            held = (job.kind, uuid.UUID(job.photo_id))
        except ValueError:  # the runner skips a malformed job itself
            yield
            return
        with self._lock:
            self._held[held] += 1
        try:
            yield
        finally:
            with self._lock:
                self._held[held] -= 1
                if self._held[held] <= 0:
                    del self._held[held]

    def renew_once(self) -> None:
        """Stamp every running job's claim with now (only rows still `processing`)."""
        with self._lock:
            held = list(self._held)
        if not held:
            return
        now = datetime.now(UTC)
        photos = [photo_id for kind, photo_id in held if kind == THUMBNAILS]
        with self._sessions() as db, db.begin():
            if photos:
                db.execute(
                    update(Photo)
                    .where(Photo.id.in_(photos), Photo.thumbnail_status == "processing")
                    .values(thumbnail_started_at=now)
                )
            for kind, photo_id in held:
                if kind in JOB_SOURCES:
                    db.execute(
                        update(PlaybackRendition)
                        .where(
                            PlaybackRendition.photo_id == photo_id,
                            PlaybackRendition.kind == JOB_SOURCES[kind],
                            PlaybackRendition.status == "processing",
                        )
                        .values(started_at=now)
                    )

    def renew_once_logged(self) -> None:
        try:
            self.renew_once()
        except Exception as exc:  # the database may be briefly away; the next round renews
            log.warning("could not renew the leases of running jobs: %s: %s", type(exc).__name__, exc)
