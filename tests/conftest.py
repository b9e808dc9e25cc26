"""One fixture per real service, and a real `image-assistant serve` per backend.

`server` is parametrised: every API test runs against SQLite + local store,
PostgreSQL + local store, and SQLite + the real S3 server. The helpers these fixtures use
live in `tests/helpers/`.
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.s3 import collect_garbage, ensure_s3_server, remove_bucket, shared_dir, warm_up_s3_server
from tests.helpers.server import Accounts, Server, fresh_postgres_database, start_server


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test session, dropped afterwards."""
    with fresh_postgres_database("ia_test") as url:
        yield url


def pytest_collection_finish(session: pytest.Session) -> None:
    """When a collected test needs the S3 server, start it now: its boot overlaps earlier tests."""
    if any(_needs_s3(item) for item in session.items):
        warm_up_s3_server()


def _needs_s3(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    on_s3 = callspec is not None and callspec.params.get("server") == "s3"
    return on_s3 or bool({"s3_env", "s3_server"} & set(getattr(item, "fixturenames", ())))


@pytest.fixture(scope="session", autouse=True)
def s3_garbage_collected() -> Iterator[None]:
    """After the session, the S3 server frees what the tests deleted (else a few runs fill it)."""
    yield
    collect_garbage()


@pytest.fixture(scope="session")
def s3_env() -> Iterator[dict[str, str]]:
    """Settings for the real S3 server; each bucket a test names this way is removed at the end."""
    s3 = ensure_s3_server()
    env = {
        "STORAGE_BACKEND": "s3",
        "MINIO_ENDPOINT": s3.endpoint,
        "MINIO_ACCESS_KEY": s3.access_key,
        "MINIO_SECRET_KEY": s3.secret_key,
        "MINIO_BUCKET": f"ia-api-{secrets.token_hex(4)}",
    }
    yield env
    remove_bucket(s3, env["MINIO_BUCKET"])


@pytest.fixture(scope="session", params=["sqlite", "postgres", "s3"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real server process on one backend; shared by the session, users keep tests apart."""
    backend = request.param
    extra: dict[str, str] = {}
    if backend == "postgres":
        extra["DATABASE_URL"] = request.getfixturevalue("postgres_url")
    elif backend == "s3":
        extra.update(request.getfixturevalue("s3_env"))
    server = start_server(tmp_path_factory.mktemp("servers"), backend, extra)
    yield server
    server.stop()
    log = server.log_text()
    assert "Traceback" not in log, f"server logged a traceback:\n{log[-4000:]}"


@pytest.fixture
def accounts(server: Server) -> Iterator[Accounts]:
    made = Accounts(server)
    yield made
    made.close()


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return shared_dir() / "fixtures" / "photos-libraries"


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
    shutil.rmtree(tmp_path, ignore_errors=True)
