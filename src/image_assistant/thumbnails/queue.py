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
import threading
import uuid
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
    from huey.storage import RedisStorage  # type: ignore[import-untyped]

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


class TakenRedisStorage(RedisStorage):  # type: ignore[misc]
    """Huey's Redis storage, but a worker takes a job by moving it into a list of its own process
    (BLMOVE) rather than popping it: until the job is claimed in the database (and so under a
    lease, thumbnails/lease.py) it stays in Redis. A worker keeps a heartbeat key alive; the
    reconciler puts back the jobs of a worker whose heartbeat lapsed (killed, or its machine gone)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        consumer = uuid.uuid4().hex
        self.taken_prefix = f"huey.taken.{self.name}."
        self.alive_prefix = f"huey.alive.{self.name}."
        self.taken_key = self.taken_prefix + consumer
        self.alive_key = self.alive_prefix + consumer
        self._current = threading.local()

    def dequeue(self) -> bytes | None:
        try:
            data: bytes | None = self.conn.blmove(
                self.queue_key, self.taken_key, self.read_timeout, "RIGHT", "LEFT"
            )
        except (TimeoutError, TypeError, IndexError):
            return None
        self._current.data = data
        return data

    def release(self) -> None:
        """The job this thread took is claimed (or done): no longer ours to give back."""
        data = getattr(self._current, "data", None)
        if data is not None:
            self._current.data = None
            self.conn.lrem(self.taken_key, 1, data)

    def beat(self, ttl: int) -> None:
        self.conn.set(self.alive_key, b"1", ex=ttl)

    def give_back_lost(self) -> int:
        """Jobs taken by workers whose heartbeat lapsed, back at the head of the queue."""
        moved = 0
        for key in self.conn.scan_iter(match=self.taken_prefix + "*", count=100):
            consumer = key.decode()[len(self.taken_prefix) :]
            if self.conn.exists(self.alive_prefix + consumer):
                continue
            while self.conn.lmove(key, self.queue_key, "RIGHT", "RIGHT") is not None:
                moved += 1
        return moved


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

    def release_taken(self) -> None:
        """The job the calling thread took is claimed: a worker killed from now on loses it to
        its lease, not to the queue (Redis; the embedded queue dies with its worker's process)."""
        if self._taken is not None:
            self._taken.release()

    def beat(self, ttl: int) -> None:
        """This worker process is alive, for `ttl` seconds (Redis)."""
        if self._taken is not None:
            self._taken.beat(ttl)

    def give_back_lost(self) -> int:
        """Put back the jobs that workers gone took and never claimed; how many (Redis)."""
        return 0 if self._taken is None else int(self._taken.give_back_lost())

    @property
    def _taken(self) -> TakenRedisStorage | None:
        storage = self.huey.storage
        return storage if isinstance(storage, TakenRedisStorage) else None

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
        huey: Huey = RedisHuey(
            name, results=False, connection_pool=pool, read_timeout=1, storage_class=TakenRedisStorage
        )
        return ThumbnailQueue(huey, "redis")
    try:
        settings.queue_path.parent.mkdir(parents=True, exist_ok=True)
        huey = SqliteHuey(name, filename=str(settings.queue_path), results=False, timeout=30)
    except (OSError, sqlite3.Error) as exc:
        detail = f"{type(exc).__name__}: {exc}"
        raise QueueUnavailable(f"sqlite queue at {settings.queue_path}: {detail}") from None
    return ThumbnailQueue(huey, "sqlite")
