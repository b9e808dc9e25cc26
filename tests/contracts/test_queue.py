"""One contract suite for the thumbnail queue, run on the embedded SQLite queue and on Redis.

Jobs are run by a real Huey consumer in threads, as `serve` embeds one (thumbnails/worker.py);
Redis is the real one at 127.0.0.1:6379, each test on a queue name of its own.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from huey.consumer import Consumer

from image_assistant.config import Settings
from image_assistant.errors import QueueUnavailable
from image_assistant.thumbnails.queue import ThumbnailJob, ThumbnailQueue, make_queue
from tests.helpers.server import free_port
from tests.helpers.thumbnails import REDIS_URL

DELAY = 4.0  # seconds a delayed job waits: long enough to watch it wait, short enough for the suite
EMPTY = {"queued": 0, "scheduled": 0}


def a_job(sizes: tuple[str, ...] = ("small", "medium", "large")) -> ThumbnailJob:
    photo_id = str(uuid.uuid4())
    return ThumbnailJob(photo_id=photo_id, source_key=f"originals/{photo_id}.jpg", sizes=sizes)


class Received:
    """A handler to bind: keeps each job it is given, and when."""

    def __init__(self) -> None:
        self.jobs: list[ThumbnailJob] = []
        self.times: list[float] = []
        self._arrived = threading.Condition()

    def __call__(self, job: ThumbnailJob) -> None:
        with self._arrived:
            self.jobs.append(job)
            self.times.append(time.monotonic())
            self._arrived.notify_all()

    def wait_for(self, count: int, timeout: float = 15) -> list[ThumbnailJob]:
        """The first `count` jobs, once they have arrived."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.jobs) >= count, timeout=timeout):
                raise AssertionError(f"{len(self.jobs)} of {count} jobs arrived in {timeout} s")
            return list(self.jobs[:count])


class ThreadConsumer(Consumer):  # type: ignore[misc]
    """Huey's consumer in threads, leaving the test process's signal handlers alone (as `serve` does)."""

    def _set_signal_handlers(self) -> None:
        pass


@contextmanager
def consuming(queue: ThumbnailQueue, handler: Callable[[ThumbnailJob], None]) -> Iterator[None]:
    """A consumer runs the queue's jobs through `handler` while inside; stopped gracefully after."""
    queue.bind(handler)
    consumer = ThreadConsumer(
        queue.huey,
        workers=2,
        periodic=False,
        initial_delay=0.1,
        backoff=1.5,
        max_delay=0.5,
        scheduler_interval=1,
        worker_type="thread",
        check_worker_health=False,
        shutdown_timeout=10,
    )
    consumer.start()
    try:
        yield
    finally:
        consumer.stop(graceful=True)


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


class QueueContract:
    """What every queue backend must do; subclasses provide `settings` and an `unreachable` queue."""

    @pytest.fixture
    def queue(self, settings: Settings) -> Iterator[ThumbnailQueue]:
        made = make_queue(settings)
        yield made
        made.close()

    def test_a_new_queue_counts_nothing(self, queue: ThumbnailQueue) -> None:
        assert queue.counts() == EMPTY

    def test_enqueued_jobs_are_counted_as_queued_until_a_worker_takes_them(
        self, queue: ThumbnailQueue
    ) -> None:
        for _ in range(3):
            queue.enqueue(a_job())
        assert queue.counts() == {"queued": 3, "scheduled": 0}

    def test_an_enqueued_job_reaches_the_bound_handler_with_the_same_payload(
        self, queue: ThumbnailQueue
    ) -> None:
        sent = a_job(sizes=("small", "large"))
        queue.enqueue(sent)
        received = Received()
        with consuming(queue, received):
            assert received.wait_for(1) == [sent]
        assert queue.counts() == EMPTY

    def test_each_of_many_jobs_is_delivered_exactly_once(self, queue: ThumbnailQueue) -> None:
        sent = [a_job() for _ in range(20)]
        for job in sent:
            queue.enqueue(job)
        received = Received()
        with consuming(queue, received):
            received.wait_for(len(sent))
            time.sleep(1)  # room for a duplicate to show up
        assert sorted(received.jobs, key=str) == sorted(sent, key=str)
        assert queue.counts() == EMPTY

    def test_a_delayed_job_is_counted_as_scheduled_and_runs_only_after_its_delay(
        self, queue: ThumbnailQueue
    ) -> None:
        sent = a_job()
        received = Received()
        with consuming(queue, received):
            enqueued_at = time.monotonic()
            queue.enqueue(sent, delay=DELAY)
            wait_until(
                lambda: queue.counts() == {"queued": 0, "scheduled": 1}, DELAY / 2, "the job scheduled"
            )
            assert received.jobs == []
            assert received.wait_for(1, timeout=DELAY + 15) == [sent]
        assert received.times[0] - enqueued_at >= DELAY
        assert queue.counts() == EMPTY

    def test_queued_jobs_survive_closing_and_reopening_the_queue(self, settings: Settings) -> None:
        sent = [a_job() for _ in range(3)]
        first = make_queue(settings)
        for job in sent:
            first.enqueue(job)
        first.close()
        again = make_queue(settings)
        try:
            assert again.counts() == {"queued": 3, "scheduled": 0}
            received = Received()
            with consuming(again, received):
                assert sorted(received.wait_for(3), key=str) == sorted(sent, key=str)
        finally:
            again.close()

    def test_a_scheduled_job_survives_closing_and_reopening_the_queue(self, settings: Settings) -> None:
        sent = a_job()
        first = make_queue(settings)
        before_restart = Received()
        with consuming(first, before_restart):
            first.enqueue(sent, delay=DELAY)
            wait_until(lambda: first.counts()["scheduled"] == 1, DELAY / 2, "the job scheduled")
        first.close()
        assert before_restart.jobs == []
        again = make_queue(settings)
        try:
            assert again.counts() == {"queued": 0, "scheduled": 1}
            received = Received()
            with consuming(again, received):
                assert received.wait_for(1, timeout=DELAY + 15) == [sent]
        finally:
            again.close()

    def test_an_unreachable_backend_raises_queue_unavailable_without_hanging(
        self, unreachable: ThumbnailQueue
    ) -> None:
        attempts: dict[str, Callable[[], object]] = {
            "enqueue": lambda: unreachable.enqueue(a_job()),
            "enqueue with a delay": lambda: unreachable.enqueue(a_job(), delay=60),
            "counts": unreachable.counts,
        }
        for name, attempt in attempts.items():
            started = time.monotonic()
            with pytest.raises(QueueUnavailable):
                attempt()
            assert time.monotonic() - started < 5, f"{name} took {time.monotonic() - started:.1f} s"


def unique_queue_name() -> str:
    return f"thumbnail-contract-{secrets.token_hex(4)}"


class TestSqliteQueue(QueueContract):
    @pytest.fixture
    def settings(self, tmp_path: Path) -> Settings:
        return Settings(
            IMAGE_ASSISTANT_DATA_DIR=str(tmp_path / "data"), REDIS_URL="", THUMBNAIL_QUEUE=unique_queue_name()
        )

    @pytest.fixture
    def unreachable(self, settings: Settings) -> Iterator[ThumbnailQueue]:
        """A queue whose SQLite file went away after it was opened, a directory in its place."""
        made = make_queue(settings)
        for path in settings.queue_path.parent.glob(f"{settings.queue_path.name}*"):
            path.unlink()
        settings.queue_path.mkdir()
        yield made
        made.close()

    def test_the_embedded_queue_is_a_file_in_the_data_dir(self, settings: Settings) -> None:
        made = make_queue(settings)
        made.enqueue(a_job())
        made.close()
        assert made.backend == "sqlite"
        assert settings.queue_path.is_file() and settings.queue_path.parent == settings.data_dir.resolve()


class TestRedisQueue(QueueContract):
    @pytest.fixture
    def settings(self, tmp_path: Path) -> Iterator[Settings]:
        """A queue name of its own in the real Redis; its keys are deleted afterwards."""
        name = unique_queue_name()
        client = redis.Redis.from_url(REDIS_URL)
        client.ping()  # Redis must run: fail here, loudly, rather than skip
        yield Settings(
            IMAGE_ASSISTANT_DATA_DIR=str(tmp_path / "data"), REDIS_URL=REDIS_URL, THUMBNAIL_QUEUE=name
        )
        keys = client.keys(f"huey.*{name.replace('-', '')}*")
        if keys:
            client.delete(*keys)
        client.close()

    @pytest.fixture
    def unreachable(self, tmp_path: Path) -> Iterator[ThumbnailQueue]:
        """A queue on a Redis URL whose port nothing listens on."""
        settings = Settings(
            IMAGE_ASSISTANT_DATA_DIR=str(tmp_path / "data"),
            REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",
            THUMBNAIL_QUEUE=unique_queue_name(),
        )
        made = make_queue(settings)
        yield made
        made.close()

    def test_the_redis_queue_keeps_nothing_in_the_data_dir(self, settings: Settings) -> None:
        made = make_queue(settings)
        made.enqueue(a_job())
        made.close()
        assert made.backend == "redis"
        assert not settings.queue_path.exists()
