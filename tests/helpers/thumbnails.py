"""Thumbnail pipeline helpers: servers and workers with short timings, made-up photos, the log's story."""

from __future__ import annotations

import io
import re
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from tests.helpers.server import ADMIN_PASSWORD, CLI, Server, base_env

REDIS_URL = "redis://127.0.0.1:6379/0"
FAST = {
    "THUMBNAIL_RETRY_DELAY": "2s",
    "THUMBNAIL_STUCK_AFTER": "8s",  # a job queued this long and not started is queued again
    "THUMBNAIL_LEASE": "4s",  # renewed every 1.3 s by a running job
    "THUMBNAIL_RECONCILE_EVERY": "1s",
    "LOG_LEVEL": "INFO",
}


TunedServer = Server  # `healthy_only`, `serve_args` and `kill` live on the shared Server


def launch(tmp: Path, name: str, extra: dict[str, str], serve_args: tuple[str, ...] = ()) -> TunedServer:
    data_dir = tmp / name
    env = base_env(data_dir)
    env.update(FAST)
    env.update(extra)
    server = TunedServer(url="", env=env, data_dir=data_dir, backend=name, serve_args=serve_args)
    server.healthy_only = "REDIS_URL" not in extra or extra["REDIS_URL"] == REDIS_URL
    server.cli("users", "create", "admin", "--admin", input=ADMIN_PASSWORD + "\n")
    server.start()
    return server


@dataclass
class Worker:
    """A running `image-assistant worker` and its log."""

    process: subprocess.Popen[bytes]
    log_path: Path

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_worker(env: dict[str, str], log_path: Path, *args: str) -> Worker:
    with open(log_path, "ab") as log:
        process = subprocess.Popen([CLI, "worker", *args], env=env, stdout=log, stderr=subprocess.STDOUT)
    worker = Worker(process, log_path)
    wait_for(lambda: "thumbnail worker started" in worker.log_text(), 60, "the worker to start")
    return worker


def wait_for(condition: Callable[[], Any], timeout: float, what: str, every: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def photo_rows(http: httpx.Client) -> list[dict[str, Any]]:
    return list(http.get("/api/photos", params={"limit": 500}).json()["photos"])


def wait_settled(http: httpx.Client, ids: set[str], timeout: float = 120) -> dict[str, dict[str, Any]]:
    """Rows of `ids` once none is pending or processing."""

    def settled() -> dict[str, dict[str, Any]] | None:
        rows = {r["id"]: r for r in photo_rows(http) if r["id"] in ids}
        done = all(r["thumbnail_status"] in ("completed", "failed") for r in rows.values())
        return rows if done and len(rows) == len(ids) else None

    return dict(wait_for(settled, timeout, f"thumbnails of {len(ids)} photos", every=0.3))


def thumbnail_bytes(http: httpx.Client, photo_id: str, size: str) -> bytes:
    response = http.get(f"/api/photos/{photo_id}/thumbnail/{size}")
    assert response.status_code == 200, response.text
    body = httpx.get(response.json()["url"], timeout=30)
    assert body.status_code == 200
    assert body.headers["content-type"].startswith("image/avif" if size.startswith("avif") else "image/jpeg")
    return body.content


def put_original(http: httpx.Client, record: dict[str, Any], data: bytes) -> httpx.Response:
    import hashlib

    return http.put(
        f"/api/sync/photos/{record['photos_uuid']}/original",
        content=data,
        headers={"x-content-sha256": hashlib.sha256(data).hexdigest()},
    )


def new_photo(http: httpx.Client, data: bytes, filename: str, content_type: str = "image/jpeg") -> str:
    """Send metadata and the original of a made-up photo; returns its server id."""
    record = {
        "photos_uuid": str(uuid.uuid4()).upper(),
        "filename": filename,
        "content_type": content_type,
        "media_type": "photo",
        "taken_at": "2024-05-01T10:00:00+00:00",
    }
    created = http.post("/api/sync/photos", json={"photos": [record]})
    assert created.status_code == 200, created.text
    stored = put_original(http, record, data)
    assert stored.status_code == 200, stored.text
    return str(created.json()["results"][0]["id"])


def attempt_times(log: str, photo_id: str) -> list[datetime]:
    """When each attempt at a photo's thumbnails started, from the log."""
    pattern = re.compile(
        r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) .*thumbnail attempt \d+ for photo " + photo_id + " started",
        re.M,
    )
    return [datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f") for m in pattern.finditer(log)]


def started_photo_ids(log: str) -> list[str]:
    return re.findall(r"thumbnail attempt \d+ for photo ([0-9a-f-]{36}) started", log)


def jpeg(width: int, height: int, **save: Any) -> bytes:
    from PIL import Image

    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", **save)
    return out.getvalue()


def slow_png(side: int = 9000) -> bytes:
    """A PNG that takes long to decode (no shrink-on-load for PNG), but is small to send."""
    import pyvips

    image = (pyvips.Image.xyz(side, side)[0] % 256).cast("uchar").bandjoin([128, 64])
    data: bytes = image.pngsave_buffer(compression=9, interlace=True)
    return data
