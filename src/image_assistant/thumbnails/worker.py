"""Thumbnail workers: a Huey consumer running jobs, plus the reconciler, the sidecar sweep and
the publish rendition sweep every so often.

Embedded in `serve` (threads beside the API, started and stopped with it) or alone in
`image-assistant worker`, on any machine that reaches the same database, store and queue.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from typing import Any

from huey.consumer import Consumer  # type: ignore[import-untyped]  # huey ships no type hints
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import sessionmaker

from image_assistant.config import Settings
from image_assistant.store.base import TEMP_FILES_KEPT_SECONDS, ObjectStore
from image_assistant.thumbnails.jobs import JobRunner
from image_assistant.thumbnails.lease import Leases
from image_assistant.thumbnails.memory import bound_memory, release_memory
from image_assistant.thumbnails.playback import PlaybackRunner, reconcile_playback
from image_assistant.thumbnails.publish import PublishRunner
from image_assistant.thumbnails.queue import PUBLISH_RENDITION, THUMBNAILS, ThumbnailJob, ThumbnailQueue
from image_assistant.thumbnails.reconcile import backfill_avif, reconcile

log = logging.getLogger("image_assistant.thumbnails")


class _EmbeddedConsumer(Consumer):  # type: ignore[misc]  # subclassing an untyped class
    """A consumer that leaves signal handling to its host process (uvicorn, or our CLI)."""

    def _set_signal_handlers(self) -> None:
        pass


class ThumbnailWorker:
    """`concurrency` job threads and one reconciler thread over a queue."""

    def __init__(
        self,
        *,
        settings: Settings,
        sessions: sessionmaker[DbSession],
        store: ObjectStore,
        queue: ThumbnailQueue,
        concurrency: int | None = None,
    ) -> None:
        logging.getLogger("pyvips").setLevel(logging.WARNING)  # it logs every file name at INFO
        bound_memory()
        self.settings = settings
        self.sessions = sessions
        self.queue = queue
        self.concurrency = concurrency or settings.thumbnail_concurrency
        self._thumbnails = JobRunner(settings=settings, sessions=sessions, store=store, queue=queue)
        self._renditions = PlaybackRunner(settings=settings, sessions=sessions, store=store, queue=queue)
        self._publish = PublishRunner(sessions=sessions, store=store)
        queue.bind(self._run)
        self._consumer: Any = _EmbeddedConsumer(
            queue.huey,
            workers=self.concurrency,
            periodic=False,
            initial_delay=0.1,
            backoff=1.5,
            max_delay=1.0,
            scheduler_interval=1,
            worker_type="thread",
            check_worker_health=False,
            shutdown_timeout=10,
        )
        self._stop = threading.Event()
        self._reconciler = threading.Thread(target=self._reconcile_forever, name="reconciler", daemon=True)
        self._leases = Leases(sessions)
        self._renewer = threading.Thread(target=self._renew_forever, name="leases", daemon=True)
        self.store = store
        self._sidecars = threading.Thread(target=self._sweep_sidecars_forever, name="sidecars", daemon=True)
        self._publish_sweeper = threading.Thread(
            target=self._sweep_publish_forever, name="publish", daemon=True
        )
        self._publish_cursor = ""

    def start(self) -> None:
        """Start the job threads and the reconciler; returns at once."""
        self._beat()  # alive before the first job is taken
        self._consumer.start()
        self._reconciler.start()
        self._renewer.start()
        self._sidecars.start()
        self._publish_sweeper.start()
        log.info(
            "thumbnail worker started: %d concurrent jobs on the %s queue %r",
            self.concurrency,
            self.queue.backend,
            self.settings.thumbnail_queue,
        )

    def stop(self) -> None:
        """Stop taking jobs; wait (up to 10 s) for running ones. An unfinished job is re-queued later."""
        self._stop.set()
        self._consumer.stop(graceful=True)
        self._reconciler.join(timeout=5)
        self._renewer.join(timeout=5)
        self._sidecars.join(timeout=5)
        self._publish_sweeper.join(timeout=5)
        log.info("thumbnail worker stopped")

    def request_stop(self) -> None:
        """Ask `wait()` to return (safe from a signal handler)."""
        self._stop.set()

    def wait(self) -> None:
        """Block until `stop()` is called (from a signal handler)."""
        while not self._stop.wait(1.0):
            pass

    def _renew_forever(self) -> None:
        """Every third of a lease: this process is alive (the queue's heartbeat), and the jobs it
        runs keep their claims."""
        while not self._stop.wait(self.settings.thumbnail_lease_seconds / 3):
            self._beat()
            self._leases.renew_once_logged()

    def _beat(self) -> None:
        try:
            self.queue.beat(self.settings.thumbnail_lease_seconds)
        except Exception as exc:  # Redis briefly away: the next beat comes within a third of a lease
            log.warning("could not mark this worker alive on the queue: %s: %s", type(exc).__name__, exc)

    def _run(self, job: ThumbnailJob) -> None:
        try:
            with self._leases.holding(job):
                if job.kind == THUMBNAILS:
                    self._thumbnails.run(job)
                elif job.kind == PUBLISH_RENDITION:
                    self._publish.run(job)
                else:
                    self._renditions.run(job)
        finally:
            self.queue.release_taken()  # a job no runner claimed (publish, or one that failed early)
            release_memory()

    def reconcile_once(self) -> None:
        try:
            removed = self.store.sweep_temporary(older_than=TEMP_FILES_KEPT_SECONDS)
            if removed:
                log.info("removed %d temporary file(s) of unfinished writes", removed)
        except OSError as exc:
            log.warning("temporary files could not be swept: %s", exc)
        try:
            given_back = self.queue.give_back_lost()
            if given_back:
                log.info("reconciler: %d job(s) taken by a worker that is gone queued again", given_back)
            for reconcile_kind in (reconcile, reconcile_playback):
                reconcile_kind(
                    sessions=self.sessions,
                    queue=self.queue,
                    stuck_after=self.settings.thumbnail_stuck_seconds,
                    lease=self.settings.thumbnail_lease_seconds,
                    max_attempts=self.settings.thumbnail_max_attempts,
                )
            backfill_avif(sessions=self.sessions, queue=self.queue)
        except Exception as exc:  # the database may be briefly away; try again next round
            log.warning("reconciler round failed: %s: %s", type(exc).__name__, exc)

    def _reconcile_forever(self) -> None:
        interval = self.settings.thumbnail_reconcile_seconds
        while not self._stop.is_set():
            self.reconcile_once()
            self._stop.wait(interval)

    def sweep_sidecars_once(self, *, changed_only: bool) -> None:
        from image_assistant.core.sidecars import refresh_all

        try:
            written = refresh_all(self.sessions, self.store, changed_only=changed_only)
            if written:
                log.info("sidecars: %d rewritten", written)
        except Exception as exc:  # the database or store may be briefly away; next round
            log.warning("sidecar sweep failed: %s: %s", type(exc).__name__, exc)

    def _sweep_sidecars_forever(self) -> None:
        from image_assistant.core.sidecars import FULL_SWEEP_EVERY

        interval = self.settings.sidecar_sweep_seconds
        rounds = 0
        while not self._stop.wait(interval):
            self.sweep_sidecars_once(changed_only=rounds % FULL_SWEEP_EVERY != 0)
            rounds += 1

    def sweep_publish_once(self) -> None:
        from image_assistant.core.rendition_sweep import sweep

        try:
            done = sweep(self.sessions, self.store, cursor=self._publish_cursor, now=datetime.now(UTC))
            self._publish_cursor = done.cursor
        except Exception as exc:  # the database or store may be briefly away; next round
            log.warning("publish sweep failed: %s: %s", type(exc).__name__, exc)

    def _sweep_publish_forever(self) -> None:
        while not self._stop.wait(self.settings.publish_sweep_seconds):
            self.sweep_publish_once()
