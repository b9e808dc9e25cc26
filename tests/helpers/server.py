"""A real `image-assistant serve` and its accounts: start a server, make users and paired devices."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

REPO = Path(__file__).resolve().parents[2]
CLI = str(Path(sys.executable).with_name("image-assistant"))
POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
ADMIN_PASSWORD = "admin-password-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A running `image-assistant serve` and the environment it was started with."""

    url: str
    env: dict[str, str]
    data_dir: Path
    backend: str
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    serve_args: tuple[str, ...] = ()
    healthy_only: bool = True  # False: a 503 /health (a queue down on purpose) counts as up

    def cli(
        self, *args: str, input: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [CLI, *args], env=self.env, input=input, capture_output=True, text=True, timeout=120
        )
        if check and result.returncode != 0:
            raise AssertionError(f"{args} failed: {result.stderr}")
        return result

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def start(self) -> None:
        port = int(self.env["IMAGE_ASSISTANT_API_PORT"])
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}-serve.log"
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [CLI, "serve", "--port", str(port), *self.serve_args],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"serve exited early:\n{self.log_text()[-3000:]}")
            try:
                status = httpx.get(f"{self.url}/health", timeout=2).status_code
                if status == 200 or (status == 503 and not self.healthy_only):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"serve did not become healthy:\n{self.log_text()[-3000:]}")

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def ensure_postgres() -> None:
    """PostgreSQL must answer; start the cluster once if it does not, else fail loudly."""
    for attempt in range(2):
        try:
            psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=3).close()
            return
        except psycopg.OperationalError as exc:
            if attempt:
                raise RuntimeError(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {exc}") from exc
            versions = os.listdir("/etc/postgresql") if os.path.isdir("/etc/postgresql") else []
            for version in versions:
                subprocess.run(
                    ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
                    check=False,
                    timeout=60,
                )
            time.sleep(2)


@contextmanager
def fresh_postgres_database(prefix: str) -> Iterator[str]:
    """The URL of a new, empty database on the local PostgreSQL, dropped (forcibly) afterwards."""
    ensure_postgres()
    name = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def create_admin(env: dict[str, str]) -> None:
    """The `admin` account, made with the CLI as an operator would."""
    result = subprocess.run(
        [CLI, "users", "create", "admin", "--admin"],
        env=env,
        input=ADMIN_PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def base_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "MINIO_", "STORAGE_"))}
    env.update(
        {
            "IMAGE_ASSISTANT_DATA_DIR": str(data_dir),
            "IMAGE_ASSISTANT_API_PORT": str(free_port()),
            "MAX_UPLOAD_BYTES": str(64 * 1024 * 1024),
            "LOG_LEVEL": "DEBUG",
            # A whole test session pairs and signs in from 127.0.0.1; tests of these limits
            # start a server of their own (tests/api/test_hardening.py).
            "PAIRING_CLIENT_RATE": "100000/1m",
            "LOGIN_CLIENT_FAILURES": "100000",
            # Thousands of sign-ins and new accounts: argon2 at its lowest cost (tests/ops/test_config.py
            # checks the default cost).
            "IMAGE_ASSISTANT_TEST_CHEAP_PASSWORD_HASHES": "1",
        }
    )
    return env


def start_server(tmp: Path, backend: str, extra: dict[str, str]) -> Server:
    data_dir = tmp / backend
    env = base_env(data_dir)
    env.update(extra)
    server = Server(url="", env=env, data_dir=data_dir, backend=backend)
    server.cli("users", "create", "admin", "--admin", input=ADMIN_PASSWORD + "\n")
    server.start()
    return server


@dataclass
class User:
    username: str
    password: str
    token: str
    http: httpx.Client


@dataclass
class Device:
    id: str
    token: str
    http: httpx.Client
    owner: User
    hardware_id: str = field(default_factory=lambda: uuid.uuid4().hex)


class Accounts:
    """Makes users (through the admin API) and paired devices (through the pairing API)."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.clients: list[httpx.Client] = []

    def _client(self, token: str | None = None) -> httpx.Client:
        client = self.server.client(token)
        self.clients.append(client)
        return client

    def admin_token(self) -> str:
        if self.server.env.get("_ADMIN_TOKEN"):
            return self.server.env["_ADMIN_TOKEN"]
        with self.server.client() as http:
            response = http.post("/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
            assert response.status_code == 200, response.text
            self.server.env["_ADMIN_TOKEN"] = str(response.json()["token"])
            return self.server.env["_ADMIN_TOKEN"]

    def user(self, *, is_admin: bool = False) -> User:
        username = f"u{uuid.uuid4().hex[:12]}"
        password = secrets.token_urlsafe(12)
        admin = self._client(self.admin_token())
        created = admin.post(
            "/api/users", json={"username": username, "password": password, "is_admin": is_admin}
        )
        assert created.status_code == 201, created.text
        token = self.login(username, password)
        return User(username, password, token, self._client(token))

    def login(self, username: str, password: str) -> str:
        response = self._client().post("/api/auth/login", json={"username": username, "password": password})
        assert response.status_code == 200, response.text
        return str(response.json()["token"])

    def register(self, owner: User, hardware_id: str | None = None) -> str:
        body: dict[str, Any] = {
            "username": owner.username,
            "name": "Test Mac",
            "hardware_id": hardware_id or uuid.uuid4().hex,
            "platform": "macOS",
            "os_version": "14.5",
        }
        response = self._client().post("/api/devices/register", json=body)
        assert response.status_code == 201, response.text
        assert "verification_code" not in response.text
        return str(response.json()["device_id"])

    def code_for(self, owner: User, device_id: str) -> str:
        devices = owner.http.get("/api/devices").json()["devices"]
        return str(next(d for d in devices if d["id"] == device_id)["verification_code"])

    def device(self, owner: User | None = None) -> Device:
        owner = owner or self.user()
        device_id = self.register(owner)
        code = self.code_for(owner, device_id)
        response = self._client().post("/api/devices/verify", json={"device_id": device_id, "code": code})
        assert response.status_code == 200, response.text
        token = response.json()["token"]
        return Device(device_id, token, self._client(token), owner)

    def close(self) -> None:
        for client in self.clients:
            client.close()
