"""Thumbnail workers: a Huey consumer running jobs, plus the reconciler every so often.

Embedded in `serve` (threads beside the API, started and stopped with it) or alone in
`image-assistant worker`, on any machine that reaches the same database, store and queue.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from huey.consumer import Consumer  # type: ignore[import-untyped]

from image_assistant.services import Services
from image_assistant.thumbnails.jobs import JobRunner
from image_assistant.thumbnails.reconcile import reconcile

log = logging.getLogger("image_assistant.thumbnails")


class _EmbeddedConsumer(Consumer):  # type: ignore[misc]
    """A consumer that leaves signal handling to its host process (uvicorn, or our CLI)."""

    def _set_signal_handlers(self) -> None:
        pass


class ThumbnailWorker:
    """`concurrency` job threads and one reconciler thread over the services' queue."""

    def __init__(self, services: Services, *, concurrency: int | None = None) -> None:
        settings = services.settings
        logging.getLogger("pyvips").setLevel(logging.WARNING)  # it logs every file name at INFO
        self.services = services
        self.concurrency = concurrency or settings.thumbnail_concurrency
        runner = JobRunner(
            settings=settings, sessions=services.sessions, store=services.store, queue=services.queue
        )
        services.queue.bind(runner.run)
        self._consumer: Any = _EmbeddedConsumer(
            services.queue.huey,
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

    def start(self) -> None:
        """Start the job threads and the reconciler; returns at once."""
        self._consumer.start()
        self._reconciler.start()
        log.info(
            "thumbnail worker started: %d concurrent jobs on the %s queue %r",
            self.concurrency,
            self.services.queue.backend,
            self.services.settings.thumbnail_queue,
        )

    def stop(self) -> None:
        """Stop taking jobs; wait (up to 10 s) for running ones. An unfinished job is re-queued later."""
        self._stop.set()
        self._consumer.stop(graceful=True)
        self._reconciler.join(timeout=5)
        log.info("thumbnail worker stopped")

    def request_stop(self) -> None:
        """Ask `wait()` to return (safe from a signal handler)."""
        self._stop.set()

    def wait(self) -> None:
        """Block until `stop()` is called (from a signal handler)."""
        while not self._stop.wait(1.0):
            pass

    def reconcile_once(self) -> None:
        settings = self.services.settings
        try:
            reconcile(
                sessions=self.services.sessions,
                queue=self.services.queue,
                stuck_after=settings.thumbnail_stuck_seconds,
                max_attempts=settings.thumbnail_max_attempts,
            )
        except Exception as exc:  # the database may be briefly away; try again next round
            log.warning("reconciler round failed: %s: %s", type(exc).__name__, exc)

    def _reconcile_forever(self) -> None:
        interval = self.services.settings.thumbnail_reconcile_seconds
        while not self._stop.is_set():
            self.reconcile_once()
            self._stop.wait(interval)
