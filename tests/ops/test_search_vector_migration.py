"""Migrations 0022 and 0024 on PostgreSQL: photos stored before them are found by search after
them, through the stored `search_vector` column (each word's prefixes since 0024) and its GIN
index (with favorites and dates, through the partial index of favorites); a photo written or
changed after them is found by its new words."""

from __future__ import annotations

from pathlib import Path

import httpx
from alembic import command
from sqlalchemy import text

from image_assistant.db.session import alembic_config
from tests.api.test_search import listed
from tests.helpers.records import photo_record
from tests.helpers.server import Accounts, fresh_postgres_database, start_server
from tests.ops.test_month_counts_migration import _engine

COLUMN = "SELECT count(*) FROM information_schema.columns WHERE table_name = 'photos' AND column_name = :c"
INDEX = "SELECT indexdef FROM pg_indexes WHERE indexname = :i"


def _sync(http: httpx.Client, *records: dict[str, object]) -> None:
    assert http.post("/api/sync/photos", json={"photos": list(records)}).status_code == 200


def test_migrations_0022_and_0024_find_the_photos_stored_before_them(tmp_path: Path) -> None:
    with fresh_postgres_database("ia_vector") as url:
        server = start_server(tmp_path, "postgres", {"DATABASE_URL": url})
        accounts = Accounts(server)
        engine = _engine(server.env, server.data_dir)
        try:
            device = accounts.device()
            config = alembic_config(engine)
            command.downgrade(config, "0021")
            with engine.connect() as conn:
                assert conn.execute(text(COLUMN), {"c": "search_vector"}).scalar() == 0
            before = [
                photo_record(filename="CREME.JPG", taken_at="2024-05-01T10:00:00Z", title="Crème brûlée"),
                photo_record(
                    filename="SEINE.JPG",
                    taken_at="2024-04-01T10:00:00Z",
                    persons=["Zoé Martin"],
                    is_favorite=True,
                ),
                photo_record(filename="LYON.JPG", taken_at="2024-03-01T10:00:00Z", persons=["Zoé Dubois"]),
            ]
            _sync(device.http, *before)
            command.upgrade(config, "head")
            with engine.connect() as conn:
                assert conn.execute(text(COLUMN), {"c": "search_vector"}).scalar() == 1
                vector = "SELECT search_vector::text FROM photos WHERE filename = 'LYON.JPG'"
                assert conn.execute(text(vector)).scalar() == (
                    "'d' 'du' 'dub' 'dubo' 'duboi' 'dubois' 'j' 'jp' 'jpg' 'l' 'ly' 'lyo' 'lyon'"
                    " 'z' 'zo' 'zoe'"
                )
                assert "gin (search_vector)" in str(
                    conn.execute(text(INDEX), {"i": "ix_photos_search"}).scalar()
                )
                assert "is_favorite IS TRUE" in str(
                    conn.execute(text(INDEX), {"i": "ix_photos_favorites"}).scalar()
                )
            http = device.owner.http
            assert listed(http, q="brul") == ["CREME.JPG"]
            assert listed(http, q="zoe") == ["SEINE.JPG", "LYON.JPG"]
            assert listed(http, q="zoé mart") == ["SEINE.JPG"]
            in_2024 = {"from": "2024-01-01", "to": "2024-12-31"}
            assert listed(http, q="zoe", favorite="true", **in_2024) == ["SEINE.JPG"]
            # Written after the upgrade: a new photo, and a new title for an old one.
            _sync(
                device.http, photo_record(filename="NEW.JPG", taken_at="2024-06-01T10:00:00Z", title="Martes")
            )
            _sync(device.http, {**before[2], "title": "Marché"})
            assert listed(http, q="zoe mar") == ["SEINE.JPG", "LYON.JPG"]
            assert listed(http, q="mar") == ["NEW.JPG", "SEINE.JPG", "LYON.JPG"]
            assert listed(http, q="creme") == ["CREME.JPG"]
        finally:
            engine.dispose()
            accounts.close()
            server.stop()
