"""Scale-out on one machine: two APIs and two workers on one PostgreSQL, one Redis, one S3.

Two agents sync the two fixture libraries at the same time through different APIs;
then a worker is killed mid-run and an API restarted. Nothing is lost or duplicated.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from threading import Thread
from typing import Any

import psutil
import pytest
from sqlalchemy import create_engine, text

from image_assistant.store.keys import THUMBNAIL_SIZES
from tests.helpers.agent import Agent, start_pairing, wait_for_code
from tests.helpers.library import copy_library, read_library, sha256_of
from tests.helpers.records import records_over_days
from tests.helpers.server import (
    CLI,
    Accounts,
    Server,
    base_env,
    create_admin,
    free_port,
    fresh_postgres_database,
)

LIBRARIES = ("Test-14.0.0.photoslibrary", "Test-Cloud-13.1.photoslibrary")


class Cluster:
    """Two `serve --no-worker` and two `worker` processes sharing one configuration."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root = root
        self.env = env
        self.apis: list[Server] = []
        self.workers: list[subprocess.Popen[bytes]] = []

    def start_apis(self, *names: str) -> list[Server]:
        """APIs started side by side (each start waits for its /health)."""
        apis = [
            Server(
                url="",
                env={**self.env, "IMAGE_ASSISTANT_API_PORT": str(free_port())},
                data_dir=self.root / name,
                backend=name,
                serve_args=("--no-worker",),
            )
            for name in names
        ]
        self.apis += apis
        with ThreadPoolExecutor(len(apis)) as pool:
            list(pool.map(Server.start, apis))
        return apis

    def start_worker(self, name: str) -> subprocess.Popen[bytes]:
        log = open(self.root / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the process
        process = subprocess.Popen(
            [CLI, "worker"],
            env={**self.env, "IMAGE_ASSISTANT_DATA_DIR": str(self.root / name)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.workers.append(process)
        return process

    def stop(self) -> None:
        for api in self.apis:
            api.stop()
        for process in self.workers:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()

    def busy(self, name: str) -> bool:
        """Whether the worker's log shows a thumbnail job begun and not ended."""
        log = (self.root / f"{name}.log").read_text(errors="replace")
        begun = re.findall(r"thumbnail attempt \d+ for photo (\S+) started", log)
        ended = set(re.findall(r"thumbnails of photo (\S+) (?:completed|failed)", log))
        return any(photo_id not in ended for photo_id in begun)

    def logs(self) -> str:
        return "".join(p.read_text(errors="replace") for p in self.root.glob("*.log"))


@pytest.fixture
def cluster(tmp_path: Path, s3_env: dict[str, str], s3_bucket: str) -> Iterator[Cluster]:
    with fresh_postgres_database("ia_scale") as database_url:
        env = base_env(tmp_path / "shared")
        env.update(s3_env)
        env.update(
            {
                "MINIO_BUCKET": s3_bucket,
                "DATABASE_URL": database_url,
                "REDIS_URL": "redis://127.0.0.1:6379/0",
                "THUMBNAIL_QUEUE": f"ia-scale-{secrets.token_hex(4)}",
                "JWT_SECRET": secrets.token_urlsafe(40),
                "LOG_LEVEL": "INFO",
                "THUMBNAIL_STUCK_AFTER": "90s",
                "THUMBNAIL_LEASE": "6s",  # the killed worker's jobs come back within seconds
                "THUMBNAIL_RECONCILE_EVERY": "5s",
            }
        )
        made = Cluster(tmp_path, env)
        create_admin(env)
        try:
            yield made
        finally:
            made.stop()
    assert "Traceback" not in made.logs()


def pair(api: Server, accounts: Accounts, config_dir: Path) -> Agent:
    agent = Agent(api, accounts.user(), config_dir)
    process = start_pairing(agent)
    _, code = wait_for_code(agent.user)
    out, err = process.communicate(code + "\n", timeout=60)
    assert process.returncode == 0, err + out
    return agent


def thumbnails_settled(db_url: str, timeout: float = 420) -> None:
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                open_jobs = conn.execute(
                    text(
                        "SELECT COUNT(*) FROM photos WHERE thumbnail_source_key IS NOT NULL "
                        "AND thumbnail_status IN ('pending', 'processing')"
                    )
                ).scalar()
            if open_jobs == 0:
                return
            time.sleep(0.25)
        waiting = rows(
            db_url,
            "SELECT photos_uuid, filename, thumbnail_status, thumbnail_attempts, thumbnail_error FROM photos "
            "WHERE thumbnail_source_key IS NOT NULL AND thumbnail_status IN ('pending', 'processing')",
        )
        raise AssertionError(f"{open_jobs} photos still wait for thumbnails: {waiting}")
    finally:
        engine.dispose()


def rows(db_url: str, sql: str) -> list[Any]:
    engine = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql)))
    finally:
        engine.dispose()


def s3_keys(cluster: Cluster, prefix: str) -> list[str]:
    from image_assistant.config import Settings
    from image_assistant.runtime import make_store

    store = make_store(Settings(**{k: v for k, v in cluster.env.items() if k.isupper()}), "x" * 40)
    client = store._client  # the adapter's boto3 client: listing is not part of the port
    keys, token = [], None
    while True:
        page = client.list_objects_v2(
            Bucket=cluster.env["MINIO_BUCKET"],
            Prefix=prefix,
            **({"ContinuationToken": token} if token else {}),
        )
        keys += [o["Key"] for o in page.get("Contents", [])]
        token = page.get("NextContinuationToken")
        if not token:
            return keys


def test_two_apis_two_workers_two_agents_then_a_killed_worker_and_a_restarted_api(
    cluster: Cluster, fixtures_dir: Path, tmp_path: Path
) -> None:
    db_url = cluster.env["DATABASE_URL"]
    cluster.start_worker("worker-1")
    cluster.start_worker("worker-2")
    api_a, api_b = cluster.start_apis("api-a", "api-b")
    accounts_a, accounts_b = Accounts(api_a), Accounts(api_b)
    with ThreadPoolExecutor(2) as pool:
        paired = pool.map(
            pair, (api_a, api_b), (accounts_a, accounts_b), (tmp_path / "agent-a", tmp_path / "agent-b")
        )
        agents = list(paired)
    libraries = [copy_library(fixtures_dir, name, tmp_path / "libs") for name in LIBRARIES]

    runs = [
        subprocess.Popen(
            agent.argv("sync", "--library", str(lib), "--json"),
            env=agent.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for agent, lib in zip(agents, libraries, strict=True)
    ]
    for run in runs:
        out, err = run.communicate(timeout=600)
        assert run.returncode == 0, err + out
    thumbnails_settled(db_url)

    for agent, library in zip(agents, libraries, strict=True):
        photos, _ = read_library(library)
        listed = {p["photos_uuid"]: p for p in all_photos(agent.user.http)}
        assert set(listed) == {p.record["photos_uuid"] for p in photos if not p.record["is_hidden"]}
        for photo in photos:
            if photo.path is None or photo.record["is_hidden"]:
                continue
            row = listed[photo.record["photos_uuid"]]
            url = agent.user.http.get(f"/api/photos/{row['id']}/download").json()["url"]
            import httpx

            assert hashlib.sha256(httpx.get(url, timeout=60).content).hexdigest() == sha256_of(photo.path)

    stored = rows(
        db_url,
        "SELECT f.object_key, p.thumbnail_status, p.thumbnail_attempts, "
        "EXISTS (SELECT 1 FROM photo_files e WHERE e.photo_id = p.id AND e.kind = 'edited') FROM photos p "
        "JOIN photo_files f ON f.photo_id = p.id AND f.kind = 'original'",
    )
    assert stored and all(status in ("completed", "failed") for _, status, _, _ in stored)
    completed = [r for r in stored if r[1] == "completed"]
    # An edit that arrives after the original's thumbnails were made has them made again, once.
    assert all(attempts <= (2 if edited else 1) for _, _, attempts, edited in completed), (
        "a thumbnail job ran more than once"
    )
    # Photos.app's layout: a Live video sits beside its photo under originals/ (sidecars too).
    files = rows(db_url, "SELECT object_key FROM photo_files WHERE object_key LIKE 'originals/%'")
    originals = [key for key in s3_keys(cluster, "originals/") if not key.endswith(".json")]
    assert sorted(originals) == sorted(r[0] for r in files)  # each file stored once
    assert {r[0] for r in stored} <= set(originals)
    thumbs = s3_keys(cluster, "thumbs/")
    shown = [key for key in thumbs if not key.split("/")[1].endswith("-original")]
    assert len(shown) == len(THUMBNAIL_SIZES) * len(completed)
    edited = [r for r in completed if r[3]]  # these may keep the original's sizes too
    assert len(thumbs) - len(shown) <= len(THUMBNAIL_SIZES) * len(edited)
    unfinished = rows(db_url, "SELECT COUNT(*) FROM sync_logs WHERE completed_at IS NULL")[0][0]
    assert unfinished == 0

    # A second wave: a worker killed mid-run, a replacement started, and an API restarted while
    # uploads go on through the other one. The kill comes while the worker makes thumbnails (from
    # the 20th upload on, as soon as its log shows a job begun and not ended).
    device = accounts_b.device()
    records = records_over_days(60)
    assert device.http.post("/api/sync/photos", json={"photos": records}).status_code == 200
    from PIL import Image

    images = []
    for i, record in enumerate(records):
        path = tmp_path / f"wave-{i}.jpg"
        Image.new("RGB", (1200, 900), (i * 4 % 256, 90, 160)).save(path, quality=90)
        images.append((record["photos_uuid"], path))
    via_b, via_a = device.http, api_a.client(device.token)
    restart: Thread | None = None
    for i, (photos_uuid, path) in enumerate(images):
        killed = cluster.workers[0].poll() is not None
        if not killed and (i == 30 or (i >= 20 and cluster.busy("worker-1"))):
            cluster.workers[0].send_signal(signal.SIGKILL)
            cluster.start_worker("worker-3")
        if i == 35:
            api_b.stop()
            restart = Thread(target=api_b.start)
            restart.start()
            via_b = api_b.client(device.token)  # none of the stopped process's connections
        restarting = restart is not None and restart.is_alive()
        data = path.read_bytes()
        answer = (via_a if restarting else via_b).put(
            f"/api/sync/photos/{photos_uuid}/original",
            content=data,
            headers={"x-content-sha256": hashlib.sha256(data).hexdigest()},
        )
        assert answer.status_code == 200, answer.text
    assert restart is not None
    restart.join()
    with api_b.client(device.token) as http:  # the restarted API answers the device again
        assert http.get("/api/sync/status").json()["photos"] == 60
    thumbnails_settled(db_url)
    wave = rows(
        db_url,
        "SELECT photos_uuid, thumbnail_status FROM photos WHERE photos_uuid IN ("
        + ",".join(f"'{r['photos_uuid']}'" for r in records)
        + ")",
    )
    assert len(wave) == 60 and all(status == "completed" for _, status in wave)
    all_stored = rows(db_url, "SELECT COUNT(*) FROM photos WHERE thumbnail_status = 'completed'")[0][0]
    shown = [key for key in s3_keys(cluster, "thumbs/") if not key.split("/")[1].endswith("-original")]
    assert len(shown) == len(THUMBNAIL_SIZES) * all_stored
    assert rows(db_url, "SELECT COUNT(*) FROM sync_logs WHERE completed_at IS NULL")[0][0] == 0
    via_a.close()
    via_b.close()
    for client in accounts_a.clients + accounts_b.clients:
        client.close()


def all_photos(http: Any) -> list[dict[str, Any]]:
    photos, cursor = [], None
    while True:
        page = http.get("/api/photos", params={"limit": 500, **({"cursor": cursor} if cursor else {})}).json()
        photos += page["photos"]
        cursor = page["next_cursor"]
        if not cursor:
            return photos


@pytest.fixture
def fresh_database() -> Iterator[str]:
    with fresh_postgres_database("ia_workers") as url:
        yield url


def api_processes(server: Server) -> list[psutil.Process]:
    """The processes answering HTTP: uvicorn's spawned children running the API."""
    assert server.process is not None
    found = []
    for child in psutil.Process(server.process.pid).children():
        try:
            spawned = "multiprocessing.spawn" in " ".join(child.cmdline())
            if spawned and child.status() != psutil.STATUS_ZOMBIE:
                found.append(child)
        except psutil.Error:  # gone, or a zombie not yet reaped
            pass
    return found


def test_serve_with_two_api_processes_shares_one_port_and_replaces_a_crashed_one(
    tmp_path: Path, fresh_database: str
) -> None:
    data_dir = tmp_path / "multi"
    env = base_env(data_dir) | {"DATABASE_URL": fresh_database}
    server = Server(url="", env=env, data_dir=data_dir, backend="multi", serve_args=("--workers", "2"))
    create_admin(env)
    server.start()
    made = Accounts(server)
    try:
        first, second = api_processes(server)
        device = made.device()
        sent = device.http.post("/api/sync/photos", json={"photos": records_over_days(50)})
        assert sent.status_code == 200 and sent.json()["created"] == 50, sent.text

        first.kill()  # an API process that crashes is replaced; the other one answers meanwhile
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(api_processes(server)) < 2:
            time.sleep(0.5)
        replaced = api_processes(server)
        assert len(replaced) == 2 and first.pid not in {p.pid for p in replaced}
        assert second.pid in {p.pid for p in replaced}
        for _ in range(10):  # fresh connections, accepted by either process
            with server.client(device.token) as http:
                listed = http.get("/api/sync/status")
                assert listed.status_code == 200 and listed.json()["photos"] == 50, listed.text
    finally:
        made.close()
        server.stop()
    assert server.process is not None and server.process.returncode == 0
    assert not [p for p in (first, second) if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert "Traceback" not in server.log_text()
