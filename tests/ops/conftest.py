"""Fixtures of the operator's tools: a bucket of its own per test, servers the library tools share."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from tests.helpers.s3 import ensure_s3_server, remove_bucket
from tests.helpers.server import Server, fresh_postgres_database, start_server


@pytest.fixture
def s3_bucket(s3_env: dict[str, str]) -> Iterator[str]:
    """A bucket name of its own for one test, removed afterwards."""
    name = f"ia-t-{secrets.token_hex(4)}"
    yield name
    remove_bucket(ensure_s3_server(), name)


@pytest.fixture(scope="package")
def library_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """SQLite + local store, the sidecar sweep every second: verify, export and sidecar tests share it."""
    server = start_server(tmp_path_factory.mktemp("library"), "local", {"SIDECAR_SWEEP_EVERY": "1s"})
    yield server
    server.stop()
    assert "Traceback" not in server.log_text()


@pytest.fixture(scope="package")
def s3_postgres_server(tmp_path_factory: pytest.TempPathFactory, s3_env: dict[str, str]) -> Iterator[Server]:
    """PostgreSQL + the S3 store (the bucket of `s3_env`)."""
    with fresh_postgres_database("ia_ops") as database_url:
        extra = {**s3_env, "DATABASE_URL": database_url}
        server = start_server(tmp_path_factory.mktemp("s3pg"), "s3", extra)
        yield server
        server.stop()
