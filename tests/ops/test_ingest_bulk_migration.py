"""Migrations 0029 and 0030 on SQLite and PostgreSQL: the burst index holds only bursts' frames;
on PostgreSQL the vector of a row inserted without one is filled after the insert (a BEFORE row
trigger kept COPY from inserting in batches) and the keys photos_uuid, thumbnail_status and
month compare by bytes; they upgrade and downgrade with the photos kept."""

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
COLLATIONS = (
    "SELECT string_agg(table_name || '.' || column_name || ' ' || coalesce(collation_name, 'default'), ', '"
    " ORDER BY table_name, column_name) FROM information_schema.columns WHERE (table_name, column_name)"
    " IN (('photos', 'photos_uuid'), ('photos', 'thumbnail_status'), ('month_counts', 'month'))"
)
BYTE_ORDERED = "month_counts.month C, photos.photos_uuid C, photos.thumbnail_status C"


def _schema(engine: Engine, backend: str) -> tuple[bool, bool | None, str | None]:
    """Whether the burst index is partial, and on PostgreSQL whether the insert trigger runs
    BEFORE and the three keys' collations."""
    with engine.connect() as conn:
        index = str(conn.execute(text(BURST_INDEX[backend])).scalar())
        if backend != "postgres":
            return "burst_id IS NOT NULL" in index, None, None
        before = conn.execute(text(INSERT_TRIGGER_BEFORE)).scalar()
        collations = conn.execute(text(COLLATIONS)).scalar()
    return "burst_id IS NOT NULL" in index, before, collations


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_migrations_0029_and_0030_keep_the_photos_found(backend: str, tmp_path: Path) -> None:
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
            pg = backend == "postgres"
            now = (True, False, BYTE_ORDERED) if pg else (True, None, None)
            assert _schema(engine, backend) == now
            config = alembic_config(engine)
            command.downgrade(config, "0028")
            before = BYTE_ORDERED.replace(" C", " default")
            assert _schema(engine, backend) == ((False, True, before) if pg else (False, None, None))
            command.upgrade(config, "head")
            assert _schema(engine, backend) == now
            owner = device.owner.http
            assert listed(owner, burst_id="B1") == ["B2.JPG", "B1.JPG"]
            assert listed(owner, q="plain") == ["PLAIN.JPG"]
            if pg:
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
