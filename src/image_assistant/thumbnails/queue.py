"""The durable `thumbnail-processor` queue (Huey): SQLite in the data dir, or Redis with REDIS_URL.

The queue only carries jobs `{photo_id, source_key, sizes, kind}`; the photo row (or the
rendition row) is the source of truth for attempts and state, so a lost or duplicated job is
harmless (see reconcile.py). Kinds: `thumbnails`, `playback` / `live_playback` /
`edited_playback` / `edited_live_playback` (the MP4 browsers play, of a video or of a Live video,
original or edited: playback.py), and `publish_rendition` (one photo of a large publish set in
one preset, made ahead of its zip: publish.py; its `sizes` carry the set id and the preset name).
"""

from __future__ import annotations

import logging
import sqlite3
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from image_assistant.config import Settings
from image_assistant.errors import QueueUnavailable
from image_assistant.store.keys import THUMBNAIL_SIZES


@contextmanager
def _unimportable(name: str) -> Iterator[None]:
    """Inside, `import name` fails (None in sys.modules), unless it is loaded already."""
    if name in sys.modules:
        yield
        return
    sys.modules[name] = None  # type: ignore[assignment]  # how Python marks a module as missing
    try:
        yield
    finally:
        if sys.modules.get(name, ...) is None:
            del sys.modules[name]


# huey's storage module imports the client of every backend it finds installed. Its PostgreSQL
# queue is never used here, and psycopg would cost an API process on SQLite ~9 MiB of RSS.
with _unimportable("psycopg"):
    from huey import Huey, RedisHuey, SqliteHuey  # type: ignore[import-untyped]  # no type hints

log = logging.getLogger("image_assistant.thumbnails")
TASK_NAME = "render_thumbnails"
THUMBNAILS = "thumbnails"
PUBLISH_RENDITION = "publish_rendition"


@dataclass(frozen=True)
class ThumbnailJob:
    """What a worker needs to make a photo's thumbnails, or (`kind`) another derived file."""

    photo_id: str
    source_key: str
    sizes: tuple[str, ...] = tuple(THUMBNAIL_SIZES)
    kind: str = THUMBNAILS

    def payload(self) -> dict[str, Any]:
        body = {"photo_id": self.photo_id, "source_key": self.source_key, "sizes": list(self.sizes)}
        if self.kind != THUMBNAILS:
            body["kind"] = self.kind
        return body


JobHandler = Callable[[ThumbnailJob], None]


class ThumbnailQueue:
    """Enqueue thumbnail jobs and, in a worker, hand each one to the bound handler."""

    def __init__(self, huey: Huey, backend: str) -> None:
        self.huey = huey
        self.backend = backend
        self._handler: JobHandler | None = None
        self._task = huey.task(name=TASK_NAME)(self._run)

    def enqueue(self, job: ThumbnailJob, *, delay: float = 0) -> None:
        """Put a job on the queue, to run at once or after `delay` seconds; durable on return."""
        try:
            if delay > 0:
                self._task.schedule(kwargs=job.payload(), delay=delay)
            else:
                self._task(**job.payload())
        except Exception as exc:  # sqlite3 / redis errors: the reconciler will enqueue it again
            raise QueueUnavailable(f"{self.backend} queue: {type(exc).__name__}: {exc}") from None

    def bind(self, handler: JobHandler) -> None:
        """Let this process run jobs: each dequeued job goes to `handler`."""
        self._handler = handler

    def counts(self) -> dict[str, int]:
        """Jobs waiting now and jobs scheduled for later (retries)."""
        try:
            return {"queued": self.huey.pending_count(), "scheduled": self.huey.scheduled_count()}
        except Exception as exc:
            raise QueueUnavailable(f"{self.backend} queue: {type(exc).__name__}") from None

    def close(self) -> None:
        storage: Any = self.huey.storage
        if hasattr(storage, "pool"):
            storage.pool.disconnect()
        if hasattr(storage, "close"):
            storage.close()  # the SQLite queue's connection

    def _run(self, photo_id: str, source_key: str, sizes: Sequence[str], kind: str = THUMBNAILS) -> None:
        if self._handler is None:
            raise RuntimeError("a job reached a process that runs no worker")
        self._handler(ThumbnailJob(photo_id, source_key, tuple(sizes), kind))


def make_queue(settings: Settings) -> ThumbnailQueue:
    """The queue SETTINGS name: Redis when REDIS_URL is set, else the embedded SQLite file."""
    name = settings.thumbnail_queue
    if settings.redis_url:
        from redis import ConnectionPool
        from redis.backoff import ExponentialBackoff
        from redis.retry import Retry

        # A short retry rides over a Redis restart; an upload never waits long for a dead queue.
        pool = ConnectionPool.from_url(
            settings.redis_url,
            socket_connect_timeout=2,
            socket_timeout=10,
            health_check_interval=30,
            retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), 2),
        )
        huey: Huey = RedisHuey(name, results=False, connection_pool=pool, read_timeout=1)
        return ThumbnailQueue(huey, "redis")
    try:
        settings.queue_path.parent.mkdir(parents=True, exist_ok=True)
        huey = SqliteHuey(name, filename=str(settings.queue_path), results=False, timeout=30)
    except (OSError, sqlite3.Error) as exc:
        detail = f"{type(exc).__name__}: {exc}"
        raise QueueUnavailable(f"sqlite queue at {settings.queue_path}: {detail}") from None
    return ThumbnailQueue(huey, "sqlite")
