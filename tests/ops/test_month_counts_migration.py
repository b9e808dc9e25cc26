"""Migration 0021 counts the photos already stored by month, as GET /api/photos/months answers,
on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from alembic import command
from sqlalchemy import Engine, text

from image_assistant.db.session import alembic_config, make_engine
from tests.api.test_gallery_timeline import assert_months_true
from tests.helpers.records import photo_record
from tests.helpers.server import Accounts, fresh_postgres_database, start_server


def _engine(env: dict[str, str], data_dir: Path) -> Engine:
    url = env.get("DATABASE_URL", "").replace("postgresql://", "postgresql+psycopg://")
    return make_engine(url or f"sqlite:///{data_dir / 'image-assistant.db'}")


@contextmanager
def _database(backend: str) -> Iterator[dict[str, str]]:
    if backend == "sqlite":
        yield {}
        return
    with fresh_postgres_database("ia_months") as url:
        yield {"DATABASE_URL": url}


def _library(accounts: Accounts) -> list[httpx.Client]:
    """Two users' photos over three months: hidden, removed and burst photos among them."""
    first, second = accounts.device(), accounts.device()
    records = [photo_record(taken_at=f"2020-0{m}-05T10:00:00Z") for m in (1, 1, 2, 3)]
    records += [photo_record(taken_at="2020-02-07T10:00:00Z", is_hidden=True)]
    records += [  # a burst shown as its key frame, in March
        photo_record(taken_at="2020-02-28T10:00:00Z", burst_id="B"),
        photo_record(taken_at="2020-03-02T10:00:00Z", burst_id="B", burst_key=True),
    ]
    assert first.http.post("/api/sync/photos", json={"photos": records}).status_code == 200
    gone = {"photos_uuids": [records[0]["photos_uuid"]]}
    assert first.http.post("/api/sync/photos/deleted", json=gone).json() == {"deleted": 1}
    theirs = [photo_record(taken_at="2019-12-31T23:00:00-05:00") for _ in range(3)]
    assert second.http.post("/api/sync/photos", json={"photos": theirs}).status_code == 200
    return [first.owner.http, second.owner.http]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_migration_0021_counts_the_photos_already_stored(backend: str, tmp_path: Path) -> None:
    with _database(backend) as db_env:
        server = start_server(tmp_path, backend, db_env)
        accounts = Accounts(server)
        engine = _engine(server.env, server.data_dir)
        try:
            owners = _library(accounts)
            config = alembic_config(engine)
            command.downgrade(config, "0020")
            command.upgrade(config, "0021")
            with engine.connect() as conn:
                stored = sorted(
                    tuple(row) for row in conn.execute(text("SELECT month, photo_count FROM month_counts"))
                )
            # Neither the hidden nor the removed photos, the burst once; each user's months apart.
            assert stored == [("2020-01", 1), ("2020-01", 3), ("2020-02", 1), ("2020-03", 2)]
            command.upgrade(config, "head")  # the running server's code reads today's columns
            assert assert_months_true(owners[0]) == {"2020-03": 2, "2020-02": 1, "2020-01": 1}
            assert assert_months_true(owners[1]) == {"2020-01": 3}
        finally:
            engine.dispose()
            accounts.close()
            server.stop()
