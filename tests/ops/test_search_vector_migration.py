"""Migrations 0022, 0024 and 0027 on PostgreSQL: photos stored before them are found by search
after them, through the stored `search_vector` column (each word's prefixes since 0024, written
by the ingest path since 0027) and its GIN index (with favorites and dates, through the partial
index of favorites); a photo written or changed after them is found by its new words."""

from __future__ import annotations

from pathlib import Path

import httpx
from alembic import command
from sqlalchemy import Engine, text

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


WRITTEN = (
    "SELECT attgenerated FROM pg_attribute WHERE attrelid = 'photos'::regclass AND attname = 'search_vector'"
)
INSERT_TRIGGER = "ALTER TABLE photos {} TRIGGER photos_search_vector_insert"  # the database's own fill
VECTORS = (
    "SELECT filename, search_vector::text, search_vector = photo_search_vector(search_text)"
    " FROM photos ORDER BY filename"
)


def _vectors(engine: Engine) -> dict[str, tuple[str, bool]]:
    with engine.connect() as conn:
        return {name: (vector, same) for name, vector, same in conn.execute(text(VECTORS))}


def test_migration_0027_new_photos_bring_their_search_vector(tmp_path: Path) -> None:
    """After 0027 the ingest path writes a new photo's vector itself (without the database's
    trigger, which fills it otherwise), the same lexemes as the function's, in PostgreSQL's order even for
    letters beyond ASCII; photos stored before keep theirs; other writes get theirs by trigger."""
    with fresh_postgres_database("ia_vector") as url:
        server = start_server(tmp_path, "postgres", {"DATABASE_URL": url})
        accounts = Accounts(server)
        engine = _engine(server.env, server.data_dir)
        try:
            device = accounts.device()
            config = alembic_config(engine)
            command.downgrade(config, "0026")
            old = photo_record(filename="OLD.JPG", taken_at="2024-03-01T10:00:00Z", persons=["Zoé Martin"])
            _sync(device.http, old)
            stored = _vectors(engine)["OLD.JPG"]
            command.upgrade(config, "head")
            server.stop()
            server.start()  # a server learns once whether it writes the vectors
            with engine.begin() as conn:
                assert conn.execute(text(WRITTEN)).scalar() == ""
                conn.execute(text(INSERT_TRIGGER.format("DISABLE")))
            assert _vectors(engine)["OLD.JPG"] == stored
            new = photo_record(
                filename="Ærøskøbing_2024.HEIC",
                taken_at="2024-06-01T10:00:00Z",
                title="Straße zum Tōkyō 東京タワー à l'Internationalisation",
                keywords=["a", "Zürich", "zz", "zzz9"],
                persons=["Émile Ødegaard"],
                place={"name": "Øresund", "city": "Malmö", "country": "Sverige"},
            )
            _sync(device.http, new, photo_record(filename="PLAIN.JPG", taken_at="2024-07-01T10:00:00Z"))
            vectors = _vectors(engine)
            assert all(same for _, same in vectors.values()), vectors
            assert vectors["Ærøskøbing_2024.HEIC"][0] == (
                "'2' '20' '202' '2024' 'a' 'e' 'em' 'emi' 'emil' 'emile' 'h' 'he' 'hei' 'heic' 'i' 'in' 'int'"
                " 'inte' 'inter' 'intern' 'l' 'm' 'ma' 'mal' 'malm' 'malmo' 's' 'st' 'str' 'stra' 'stras'"
                " 'strass' 'sv' 'sve' 'sver' 'sveri' 'sverig' 't' 'to' 'tok' 'toky' 'tokyo' 'z' 'zu' 'zum'"
                " 'zur' 'zuri' 'zuric' 'zurich' 'zz' 'zzz' 'zzz9' 'æ' 'ær' 'ærø' 'ærøs' 'ærøsk' 'ærøskø'"
                " 'ø' 'ød' 'øde' 'ødeg' 'ødega' 'ødegaa' 'ør' 'øre' 'øres' 'øresu' 'øresun'"
                " '東' '東京' '東京タ' '東京タワ' '東京タワー'"
            )
            http = device.owner.http
            assert listed(http, q="ærø") == ["Ærøskøbing_2024.HEIC"]
            assert listed(http, q="strasse tokyo internationalis") == ["Ærøskøbing_2024.HEIC"]
            assert listed(http, q="東京") == ["Ærøskøbing_2024.HEIC"]
            assert listed(http, q="zoe") == ["OLD.JPG"]
            with engine.begin() as conn:
                conn.execute(text(INSERT_TRIGGER.format("ENABLE")))
                conn.execute(
                    text(
                        "INSERT INTO photos (id, user_id, device_id, photos_uuid, filename, content_type,"
                        " media_type, sort_at, is_favorite, is_hidden, thumbnail_status, created_at,"
                        " updated_at, search_text) SELECT gen_random_uuid(), user_id, device_id, 'RAW',"
                        " 'RAW.JPG', content_type, media_type, sort_at, false, false, thumbnail_status,"
                        " now(), now(), 'raw jpg quayside' FROM photos WHERE filename = 'OLD.JPG'"
                    )
                )
            _sync(device.http, {**old, "title": "Quai"})
            vectors = _vectors(engine)
            assert all(same for _, same in vectors.values()), vectors
            raw = "'j' 'jp' 'jpg' 'q' 'qu' 'qua' 'quay' 'quays' 'quaysi' 'r' 'ra' 'raw'"
            assert vectors["RAW.JPG"][0] == raw
            assert listed(http, q="quai") == ["OLD.JPG"]
        finally:
            engine.dispose()
            accounts.close()
            server.stop()
