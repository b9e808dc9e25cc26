"""What every benchmark needs: a real `image-assistant serve`, a fresh database, an owner and
a paired device, and honest statistics. Scripts only; nothing here imports pytest.
"""

from __future__ import annotations

import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
import psycopg

REPO = Path(__file__).resolve().parent.parent
BIN = REPO / ".venv" / "bin"
CLI = str(BIN / "image-assistant")
POSTGRES_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
ADMIN_PASSWORD = "bench-admin-password"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(data_dir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The caller's environment without any database/store settings, plus the bench's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "MINIO_", "STORAGE_"))}
    env.update(
        {
            "IMAGE_ASSISTANT_DATA_DIR": str(data_dir),
            "IMAGE_ASSISTANT_API_PORT": str(free_port()),
            "LOG_LEVEL": "INFO",
        }
    )
    env.update(extra or {})
    return env


def cli(env: dict[str, str], *args: str, input: str | None = None) -> str:
    result = subprocess.run([CLI, *args], env=env, input=input, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"image-assistant {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


@dataclass
class Server:
    """A running `image-assistant serve` (its pid is what RSS is measured on)."""

    url: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def client(self, token: str | None = None, timeout: float = 60) -> httpx.Client:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def tracebacks(self) -> int:
        return self.log_path.read_text(errors="replace").count("Traceback")


@contextmanager
def running_server(
    data_dir: Path,
    extra: dict[str, str] | None = None,
    serve_args: Sequence[str] = (),
    *,
    admin_exists: bool = False,
) -> Iterator[Server]:
    """`image-assistant serve` on a free port with `data_dir`, an admin account made by the CLI
    (or, in a kept database that has one, given the bench's password again)."""
    env = server_env(data_dir, extra)
    if admin_exists:
        cli(env, "users", "passwd", "admin", input=ADMIN_PASSWORD + "\n")
    else:
        cli(env, "users", "create", "admin", "--admin", input=ADMIN_PASSWORD + "\n")
    port = env["IMAGE_ASSISTANT_API_PORT"]
    log_path = data_dir.parent / f"{data_dir.name}-serve.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [CLI, "serve", "--port", port, *serve_args], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    server = Server(f"http://127.0.0.1:{port}", env, process, log_path)
    try:
        _wait_healthy(server)
        yield server
    finally:
        server.stop()
        if server.tracebacks():
            print(f"  warning: the server logged {server.tracebacks()} traceback(s); see {log_path}")


def _wait_healthy(server: Server) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"serve exited early:\n{server.log_path.read_text()[-3000:]}")
        try:
            if httpx.get(f"{server.url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("serve did not become healthy in 60 s")


@contextmanager
def fresh_postgres_database(prefix: str) -> Iterator[str]:
    """A new empty database on the local PostgreSQL, dropped (forcibly) afterwards."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Owner:
    username: str
    user_id: str
    user_token: str
    device_id: str
    device_token: str


def owner_with_device(server: Server) -> Owner:
    """A user made through the admin API, signed in, with one device paired by its code."""
    with server.client() as http:
        admin = _ok(http.post("/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}))
        username, password = f"bench{uuid.uuid4().hex[:8]}", secrets.token_urlsafe(12)
        created = _ok(
            http.post(
                "/api/users",
                json={"username": username, "password": password},
                headers={"authorization": f"Bearer {admin['token']}"},
            )
        )
        user_token = _ok(http.post("/api/auth/login", json={"username": username, "password": password}))[
            "token"
        ]
        device_id = _ok(
            http.post(
                "/api/devices/register",
                json={
                    "username": username,
                    "name": "Bench Mac",
                    "hardware_id": uuid.uuid4().hex,
                    "platform": "macOS",
                    "os_version": "14.5",
                },
            )
        )["device_id"]
        listed = _ok(http.get("/api/devices", headers={"authorization": f"Bearer {user_token}"}))
        code = next(d for d in listed["devices"] if d["id"] == device_id)["verification_code"]
        device_token = _ok(http.post("/api/devices/verify", json={"device_id": device_id, "code": code}))[
            "token"
        ]
    return Owner(username, created["id"], user_token, device_id, device_token)


def _ok(response: httpx.Response) -> Any:
    if response.status_code >= 300:
        raise RuntimeError(f"{response.request.method} {response.request.url.path}: {response.text}")
    return response.json()


class CpuMeter:
    """CPU seconds (user + system) spent by the server process tree, on PostgreSQL by the
    database's backends, and by this process (the bench's own clients): figures that hold
    when other work shares the machine's cores."""

    def __init__(self, server_pid: int, database_url: str | None = None) -> None:
        self.server = psutil.Process(server_pid)
        self.database_url = database_url
        self._start: dict[str, dict[int, float]] = {}

    def _server_seconds(self) -> dict[int, float]:
        seconds = {}
        for process in [self.server, *self.server.children(recursive=True)]:
            try:
                times = process.cpu_times()
                seconds[process.pid] = times.user + times.system
            except psutil.NoSuchProcess:
                pass
        return seconds

    def _database_seconds(self) -> dict[int, float]:
        if not self.database_url:
            return {}
        name = self.database_url.rsplit("/", 1)[-1]
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            pids = [
                pid
                for (pid,) in conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (name,)
                )
            ]
        seconds = {}
        for pid in pids:
            try:
                times = psutil.Process(pid).cpu_times()
                seconds[pid] = times.user + times.system
            except psutil.NoSuchProcess:
                pass
        return seconds

    def pids(self) -> list[int]:
        """The server's processes and the database's backends now."""
        return [*self._server_seconds(), *self._database_seconds()]

    def start(self) -> None:
        self._start = self._seconds()

    def _seconds(self) -> dict[str, dict[int, float]]:
        mine = psutil.Process().cpu_times()
        return {
            "server": self._server_seconds(),
            "database": self._database_seconds(),
            "client": {os.getpid(): mine.user + mine.system},
        }

    def stop(self) -> dict[str, float]:
        """CPU seconds since `start`, per part: {"server": ..., "database": ..., "client": ...}."""
        now = self._seconds()
        return {
            part: sum(value - self._start[part].get(pid, 0.0) for pid, value in now[part].items())
            for part in now
        }


def cpu_ns(pids: Sequence[int]) -> int:
    """Nanoseconds every thread of these processes has run so far (Linux schedstat): exact,
    where cpu_times counts 10 ms ticks, so that one request's CPU can be measured."""
    total = 0
    for pid in pids:
        for stat in Path(f"/proc/{pid}/task").glob("*/schedstat"):
            try:
                total += int(stat.read_text().split()[0])
            except (FileNotFoundError, ProcessLookupError):
                pass  # a thread or backend that ended meanwhile
    return total


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


def machine_speed() -> str:
    """Seconds a plain 10M-step Python loop takes here: the shared machine's speed varies from
    day to day (2-3x seen), so absolute figures from different days compare only through this."""
    started = time.perf_counter()
    total = 0
    for step in range(10_000_000):
        total += step
    return f"a 10M-step Python loop takes {time.perf_counter() - started:.2f} s on this machine now"


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation between closest ranks."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def heading(text: str) -> None:
    print(f"\n== {text}", flush=True)


def python() -> str:
    """The project's interpreter (for helper processes that import image_assistant)."""
    candidate = BIN / "python"
    return str(candidate) if candidate.exists() else sys.executable


def wait_thumbnails(server: Server, token: str, *, timeout: float = 600) -> None:
    """Until the server has no thumbnail pending or processing (RuntimeError after `timeout` s)."""
    with server.client(token) as http:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            thumbs = http.get("/api/sync/status").json()["thumbnails"]
            if thumbs["pending"] + thumbs["processing"] == 0:
                return
            time.sleep(0.5)
    raise RuntimeError(f"thumbnails not made in {timeout:.0f} s")
