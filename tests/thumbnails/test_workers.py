"""The thumbnail queue's promises: retries with backoff, killed workers, restarts, Redis workers.

Each test runs real `serve` and `worker` processes with short timings (retry 2 s, stuck after
8 s), on the embedded SQLite queue and on the real Redis at 127.0.0.1:6379.
"""

from __future__ import annotations

import io
import re
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import sqlalchemy
from PIL import Image

from tests.helpers.server import CLI, Accounts
from tests.helpers.thumbnails import (
    REDIS_URL,
    TunedServer,
    Worker,
    attempt_times,
    jpeg,
    launch,
    new_photo,
    slow_png,
    start_worker,
    started_photo_ids,
    thumbnail_bytes,
    wait_for,
    wait_settled,
)


@pytest.fixture(scope="module")
def slow_image() -> bytes:
    return slow_png(9000)


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TunedServer]:
    """serve with its embedded worker on the SQLite queue, short retry and reconcile timings."""
    server = launch(tmp_path_factory.mktemp("thumbs"), "embedded", {})
    yield server
    server.stop()
    assert "Traceback" not in server.log_text(), server.log_text()[-4000:]


@pytest.fixture(scope="module")
def redis_queue() -> Iterator[str]:
    """A queue name of its own in the real Redis; its keys are deleted afterwards."""
    name = f"thumbnail-processor-test-{secrets.token_hex(4)}"
    client = redis.Redis.from_url(REDIS_URL)
    client.ping()
    yield name
    keys = client.keys(f"huey.*{name.replace('-', '')}*") + client.keys(f"*{name}*")
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(scope="module")
def api_only(tmp_path_factory: pytest.TempPathFactory, redis_queue: str) -> Iterator[TunedServer]:
    """serve --no-worker on Redis: jobs run only in separate `image-assistant worker` processes."""
    extra = {"REDIS_URL": REDIS_URL, "THUMBNAIL_QUEUE": redis_queue}
    server = launch(tmp_path_factory.mktemp("thumbs"), "redis-api", extra, ("--no-worker",))
    yield server
    server.stop()
    assert "Traceback" not in server.log_text(), server.log_text()[-4000:]


@pytest.fixture
def workers(api_only: TunedServer, tmp_path: Path) -> Iterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    for worker in started:
        worker.stop()
        assert "Traceback" not in worker.log_text(), worker.log_text()[-4000:]


def completed_attempt(log: str, photo_id: str) -> int:
    """The attempt that completed the photo's thumbnails, per the log (0: none did)."""
    match = re.search(f"thumbnails of photo {photo_id} completed \\(attempt (\\d+)\\)", log)
    return int(match.group(1)) if match else 0


def status_of(http: httpx.Client, photo_id: str) -> str:
    return str(http.get(f"/api/photos/{photo_id}").json()["thumbnail_status"])


def test_a_job_that_always_fails_is_tried_three_times_with_growing_delays_then_failed(
    embedded: TunedServer,
) -> None:
    device = Accounts(embedded).device()
    photo_id = new_photo(device.http, b"\x89PNG\r\n\x1a\n" + b"broken" * 200, "broken.png", "image/png")
    row = wait_settled(device.owner.http, {photo_id}, timeout=60)[photo_id]
    assert row["thumbnail_status"] == "failed"
    assert "not a readable image" in row["thumbnail_error"]
    starts = attempt_times(embedded.log_text(), photo_id)
    assert len(starts) == 3, starts
    first, second = ((b - a).total_seconds() for a, b in zip(starts, starts[1:], strict=False))
    assert 1.9 <= first and 3.9 <= second and second > first, (first, second)  # 2 s, then 4 s
    assert device.http.get("/api/sync/status").json()["thumbnails"]["failed"] == 1
    answer = device.owner.http.get(f"/api/photos/{photo_id}/thumbnail/small")
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "thumbnail_not_ready"


def test_serve_killed_mid_job_finishes_the_job_after_restart_on_the_embedded_queue(
    embedded: TunedServer, slow_image: bytes
) -> None:
    device = Accounts(embedded).device()
    photo_id = new_photo(device.http, slow_image, "huge.png", "image/png")
    wait_for(lambda: status_of(device.owner.http, photo_id) == "processing", 30, "the job to start", 0.02)
    embedded.kill()  # SIGKILL: no chance to clean up
    embedded.start()
    # Left behind by the killed worker (or already taken over again by the reconciler).
    assert status_of(device.owner.http, photo_id) in ("processing", "pending")
    row = wait_settled(device.owner.http, {photo_id}, timeout=90)[photo_id]
    assert row["thumbnail_status"] == "completed", row["thumbnail_error"]
    assert completed_attempt(embedded.log_text(), photo_id) >= 2  # attempt 1 died with the process


def test_restarting_serve_with_jobs_still_queued_loses_none(tmp_path_factory: pytest.TempPathFactory) -> None:
    # The reconciler is slowed to an hour: only the durable queue can bring these jobs back.
    tmp = tmp_path_factory.mktemp("thumbs")
    server = launch(tmp, "durable", {"THUMBNAIL_STUCK_AFTER": "1h"}, ("--no-worker",))
    try:
        device = Accounts(server).device()
        ids = {new_photo(device.http, jpeg(900 + n, 600), f"p{n}.jpg") for n in range(6)}
        server.stop()
        assert "6 queued" in server.cli("thumbnails", "status").stdout
        server.serve_args = ()  # the embedded worker, this time
        server.start()
        rows = wait_settled(device.owner.http, ids, timeout=60)
        assert {r["thumbnail_status"] for r in rows.values()} == {"completed"}
        assert sorted(started_photo_ids(server.log_text())) == sorted(ids)  # each once
    finally:
        server.stop()
    assert "Traceback" not in server.log_text()


def test_worker_killed_mid_job_finishes_the_job_after_restart_on_redis(
    api_only: TunedServer, workers: list[Worker], slow_image: bytes, tmp_path: Path
) -> None:
    workers.append(start_worker(api_only.env, tmp_path / "worker-1.log", "--concurrency", "1"))
    device = Accounts(api_only).device()
    photo_id = new_photo(device.http, slow_image, "huge.png", "image/png")
    wait_for(lambda: status_of(device.owner.http, photo_id) == "processing", 30, "the job to start", 0.02)
    workers[0].process.kill()
    workers[0].process.wait()
    assert status_of(device.owner.http, photo_id) == "processing"  # no worker runs: it stays so
    workers.append(start_worker(api_only.env, tmp_path / "worker-2.log"))
    row = wait_settled(device.owner.http, {photo_id}, timeout=90)[photo_id]
    assert row["thumbnail_status"] == "completed", row["thumbnail_error"]
    assert completed_attempt(workers[1].log_text(), photo_id) >= 2
    assert completed_attempt(workers[0].log_text(), photo_id) == 0


def taken_jobs(queue: str) -> int:
    """Jobs workers have taken off the Redis queue `queue` and not yet claimed."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        return sum(int(client.llen(key)) for key in client.keys(f"huey.taken.{queue.replace('-', '')}.*"))
    finally:
        client.close()


def test_a_job_taken_by_a_worker_killed_before_its_claim_is_queued_again_within_a_lease(
    api_only: TunedServer, workers: list[Worker], redis_queue: str, tmp_path: Path
) -> None:
    # Pending jobs are never re-queued here (1 h): only the taken job's own list brings it back.
    tuned = dict(
        api_only.env, THUMBNAIL_STUCK_AFTER="1h", THUMBNAIL_LEASE="3s", THUMBNAIL_RECONCILE_EVERY="1s"
    )
    paused = dict(tuned, IMAGE_ASSISTANT_TEST_CLAIM_PAUSE="60")
    workers.append(start_worker(paused, tmp_path / "worker-1.log", "--concurrency", "1"))
    device = Accounts(api_only).device()
    photo_id = new_photo(device.http, jpeg(800, 600), "taken.jpg")
    wait_for(lambda: taken_jobs(redis_queue) == 1, 30, "the worker to take the job", 0.02)
    workers[0].process.kill()
    workers[0].process.wait()
    assert status_of(device.owner.http, photo_id) == "pending"  # taken, never claimed
    workers.append(start_worker(tuned, tmp_path / "worker-2.log"))
    row = wait_settled(device.owner.http, {photo_id}, timeout=30)[photo_id]
    assert row["thumbnail_status"] == "completed", row["thumbnail_error"]
    assert completed_attempt(workers[1].log_text(), photo_id) == 1
    assert "1 job(s) taken by a worker that is gone queued again" in workers[1].log_text()
    assert taken_jobs(redis_queue) == 0


def test_two_workers_on_one_redis_queue_run_each_job_once(
    api_only: TunedServer, workers: list[Worker], tmp_path: Path
) -> None:
    env = dict(api_only.env, THUMBNAIL_STUCK_AFTER="10m")  # no re-queueing: every run comes from the queue
    workers.append(start_worker(env, tmp_path / "worker-a.log", "--concurrency", "2"))
    workers.append(start_worker(env, tmp_path / "worker-b.log", "--concurrency", "2"))
    device = Accounts(api_only).device()
    ids = {new_photo(device.http, jpeg(1300 + n, 900), f"p{n}.jpg") for n in range(12)}
    rows = wait_settled(device.owner.http, ids, timeout=90)
    assert {r["thumbnail_status"] for r in rows.values()} == {"completed"}
    ran = [started_photo_ids(w.log_text()) for w in workers]
    assert sorted(ran[0] + ran[1]) == sorted(ids)  # every job, and each exactly once
    assert ran[0] and ran[1], "both workers should have taken jobs"


def test_jobs_lost_while_the_queue_was_unreachable_are_requeued_by_the_reconciler(
    tmp_path_factory: pytest.TempPathFactory, redis_queue: str, tmp_path: Path
) -> None:
    tmp = tmp_path_factory.mktemp("thumbs")
    down = {"REDIS_URL": "redis://127.0.0.1:1/0", "THUMBNAIL_QUEUE": redis_queue + "-down"}
    server = launch(tmp, "redis-down", down, ("--no-worker",))
    worker = None
    try:
        health = server.client().get("/health")
        assert health.status_code == 503 and health.json()["queue"] == "unreachable"
        device = Accounts(server).device()
        photo_id = new_photo(device.http, jpeg(800, 600), "p.jpg")  # stored, though not enqueued
        assert "could not enqueue thumbnails of photo" in server.log_text()
        assert status_of(device.owner.http, photo_id) == "pending"
        env = dict(server.env, REDIS_URL=REDIS_URL, THUMBNAIL_STUCK_AFTER="2s")
        worker = start_worker(env, tmp_path / "worker.log")
        row = wait_settled(device.owner.http, {photo_id}, timeout=60)[photo_id]
        assert row["thumbnail_status"] == "completed"
        assert "reconciler: 1 photo(s) re-queued" in worker.log_text()
        rebuilt = subprocess.run(
            [CLI, "thumbnails", "rebuild", "--all"],
            env=dict(server.env, REDIS_URL=REDIS_URL),
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert "queued 1 photo(s)" in rebuilt.stdout
        wait_for(lambda: len(attempt_times(worker.log_text(), photo_id)) == 2, 30, "the rebuilt job")
        row = wait_settled(device.owner.http, {photo_id}, timeout=60)[photo_id]
        assert row["thumbnail_status"] == "completed"
    finally:
        if worker is not None:
            worker.stop()
        server.stop()
    assert "Traceback" not in server.log_text()


def test_a_long_job_keeps_its_lease_and_a_killed_workers_job_is_requeued_within_a_lease(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # Queued jobs are never re-queued here (1 h): only a lapsed lease brings a job back.
    tuned = {"THUMBNAIL_STUCK_AFTER": "1h", "THUMBNAIL_LEASE": "3s", "IMAGE_ASSISTANT_TEST_JOB_PAUSE": "8"}
    server = launch(tmp_path_factory.mktemp("thumbs"), "lease", tuned)
    try:
        device = Accounts(server).device()
        long_job = new_photo(device.http, jpeg(800, 600), "long.jpg")
        row = wait_settled(device.owner.http, {long_job}, timeout=60)[long_job]
        assert row["thumbnail_status"] == "completed"
        assert completed_attempt(server.log_text(), long_job) == 1  # 8 s, renewed: never taken over
        assert "re-queued" not in server.log_text()

        killed = new_photo(device.http, jpeg(900, 600), "killed.jpg")
        wait_for(lambda: status_of(device.owner.http, killed) == "processing", 30, "the job to start", 0.02)
        server.kill()
        server.env["IMAGE_ASSISTANT_TEST_JOB_PAUSE"] = "0"
        server.start()
        row = wait_settled(device.owner.http, {killed}, timeout=30)[killed]
        assert row["thumbnail_status"] == "completed", row["thumbnail_error"]
        assert completed_attempt(server.log_text(), killed) == 2
        assert "reconciler: 1 photo(s) re-queued" in server.log_text()
    finally:
        server.stop()
    assert "Traceback" not in server.log_text()


TILE_SOURCES = """() => [...document.querySelectorAll('.tile img')]
  .map((i) => i.complete && i.naturalWidth > 0 ? new URL(i.currentSrc).pathname.split('/').pop() : null)"""


def tile_sizes_at_ratio_2(server: TunedServer, accounts: Accounts, owner: Any, count: int) -> list[str]:
    """The thumbnail size each grid tile loaded in Chromium on a 1280 px screen at ratio 2."""
    from tests.helpers.browser import DESKTOP, chromium, sign_in

    with chromium() as (_, browser):
        context = browser.new_context(base_url=server.url, viewport=DESKTOP, device_scale_factor=2)
        try:
            page = context.new_page()
            sign_in(page, owner.username, owner.password)
            page.wait_for_function(
                f"() => {{ const s = ({TILE_SOURCES})(); return s.length === {count} && s.every(Boolean); }}"
            )
            sizes: list[str] = page.evaluate(TILE_SOURCES)
            return sizes
        finally:
            context.close()


def test_photos_thumbnailed_before_the_avif_sizes_show_crisp_jpegs_until_the_backfill_makes_them(
    tmp_path_factory: pytest.TempPathFactory, redis_queue: str, tmp_path: Path
) -> None:
    extra = {"REDIS_URL": REDIS_URL, "THUMBNAIL_QUEUE": redis_queue + "-backfill"}
    server = launch(tmp_path_factory.mktemp("thumbs"), "backfill", extra, ("--no-worker",))
    worker = start_worker(server.env, tmp_path / "worker-1.log")
    try:
        accounts = Accounts(server)
        device = accounts.device()
        ids = {new_photo(device.http, jpeg(2400, 1600), f"p{n}.jpg") for n in range(3)}
        wait_settled(device.owner.http, ids, timeout=90)
        worker.stop()
        # As a library thumbnailed before the AVIF sizes existed: no flag, no AVIF files.
        engine = sqlalchemy.create_engine(f"sqlite:///{server.data_dir / 'image-assistant.db'}")
        with engine.begin() as db:
            db.execute(sqlalchemy.text("UPDATE photos SET thumbnail_avif = false"))
        engine.dispose()
        avif_files = sorted((server.data_dir / "objects").glob("thumbs/avif*/**/*.avif"))
        assert len(avif_files) == 2 * len(ids)
        for path in avif_files:
            path.unlink()
        small_files = sorted((server.data_dir / "objects").glob("thumbs/small/**/*.jpg"))
        small_made = {path: path.stat().st_mtime_ns for path in small_files}
        for photo_id in ids:
            row = device.owner.http.get(f"/api/photos/{photo_id}").json()
            assert row["thumbnails"] == {
                "small": True,
                "medium": True,
                "large": True,
                "avif400": False,
                "avif640": False,
            }
            missing = device.owner.http.get(f"/api/photos/{photo_id}/thumbnail/avif400")
            assert missing.status_code == 404 and missing.json()["error"]["code"] == "thumbnail_not_ready"
        # photos sent without their size show as 200 px squares: 400 device px, the 600 px JPEG then
        assert tile_sizes_at_ratio_2(server, accounts, device.owner, len(ids)) == ["medium"] * len(ids)

        worker = start_worker(server.env, tmp_path / "worker-2.log")
        wait_for(
            lambda: all(
                device.owner.http.get(f"/api/photos/{i}").json()["thumbnails"]["avif640"] for i in ids
            ),
            90,
            "the backfill of the AVIF thumbnails",
        )
        assert f"backfill: AVIF thumbnails of {len(ids)} photo(s) queued" in worker.log_text()
        for photo_id in ids:
            for size, width in (("avif400", 400), ("avif640", 640)):
                with Image.open(io.BytesIO(thumbnail_bytes(device.owner.http, photo_id, size))) as made:
                    assert (made.format, made.size) == ("AVIF", (width, round(width * 2 / 3)))
        # only the missing sizes were made: the JPEGs are the files they were
        assert {path: path.stat().st_mtime_ns for path in small_files} == small_made
        assert tile_sizes_at_ratio_2(server, accounts, device.owner, len(ids)) == ["avif400"] * len(ids)
    finally:
        worker.stop()
        server.stop()
    assert "Traceback" not in worker.log_text() + server.log_text()
