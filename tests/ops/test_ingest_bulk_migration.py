"""Migration 0029 on SQLite and PostgreSQL: the burst index holds only bursts' frames, and on
PostgreSQL the vector of a row inserted without one is filled after the insert (a BEFORE row
trigger kept COPY from inserting in batches); it upgrades and downgrades with the photos kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, text

from image_assistant.db.session import alembic_config
from tests.api.test_search import listed
from tests.helpers.records import photo_record
from tests.helpers.server import Accounts, start_server
from tests.ops.test_month_counts_migration import _database, _engine

BURST_INDEX = {
    "sqlite": "SELECT sql FROM sqlite_master WHERE name = 'ix_photos_burst'",
    "postgres": "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_photos_burst'",
}
# pg_trigger.tgtype: bit 1 is BEFORE (else AFTER).
INSERT_TRIGGER_BEFORE = "SELECT tgtype & 2 = 2 FROM pg_trigger WHERE tgname = 'photos_search_vector_insert'"


def _schema(engine: Engine, backend: str) -> tuple[bool, bool | None]:
    """Whether the burst index is partial, and whether the insert trigger runs BEFORE (PostgreSQL)."""
    with engine.connect() as conn:
        index = str(conn.execute(text(BURST_INDEX[backend])).scalar())
        before = conn.execute(text(INSERT_TRIGGER_BEFORE)).scalar() if backend == "postgres" else None
    return "burst_id IS NOT NULL" in index, before


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_migration_0029_indexes_only_bursts_and_fills_vectors_after_the_insert(
    backend: str, tmp_path: Path
) -> None:
    with _database(backend) as db_env:
        server = start_server(tmp_path, backend, db_env)
        accounts = Accounts(server)
        engine = _engine(server.env, server.data_dir)
        try:
            device = accounts.device()
            records = [
                photo_record(filename=f"B{i}.JPG", taken_at=f"2024-06-01T12:00:0{i}Z", burst_id="B1")
                for i in (1, 2)
            ]
            records.append(photo_record(filename="PLAIN.JPG", taken_at="2024-06-02T12:00:00Z"))
            assert device.http.post("/api/sync/photos", json={"photos": records}).status_code == 200
            assert _schema(engine, backend) == (True, False if backend == "postgres" else None)
            config = alembic_config(engine)
            command.downgrade(config, "0028")
            assert _schema(engine, backend) == (False, True if backend == "postgres" else None)
            command.upgrade(config, "head")
            assert _schema(engine, backend) == (True, False if backend == "postgres" else None)
            owner = device.owner.http
            assert listed(owner, burst_id="B1") == ["B2.JPG", "B1.JPG"]
            assert listed(owner, q="plain") == ["PLAIN.JPG"]
            if backend == "postgres":
                with engine.begin() as conn:  # a row written by another path than the ingest's COPY
                    conn.execute(
                        text(
                            "INSERT INTO photos (id, user_id, device_id, photos_uuid, filename, content_type,"
                            " media_type, sort_at, is_favorite, is_hidden, thumbnail_status, created_at,"
                            " updated_at, search_text) SELECT gen_random_uuid(), user_id, device_id, 'RAW',"
                            " 'RAW.JPG', content_type, media_type, sort_at, false, false, thumbnail_status,"
                            " now(), now(), 'raw jpg quayside' FROM photos WHERE filename = 'PLAIN.JPG'"
                        )
                    )
                assert listed(owner, q="quaysi") == ["RAW.JPG"]
        finally:
            engine.dispose()
            accounts.close()
            server.stop()
