"""New rows go through the driver (db/bulk.py), the executemany of SQLite and a binary COPY on
PostgreSQL: each column holds exactly what SQLAlchemy would have written, so every read is the
same as before."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, insert, text

from image_assistant.core import search
from image_assistant.db.bulk import insert_rows
from image_assistant.db.models import Base, Device, User
from image_assistant.db.session import make_engine, make_session_factory, upgrade
from tests.helpers.server import fresh_postgres_database

PHOTOS: Table = Base.metadata.tables["photos"]


def photo_row(user_id: uuid.UUID, device_id: uuid.UUID, **overrides: Any) -> dict[str, Any]:
    taken = datetime(2021, 3, 4, 5, 6, 7, tzinfo=timezone(timedelta(hours=-7)))
    row: dict[str, Any] = {
        "user_id": user_id,
        "device_id": device_id,
        "filename": "IMG_0001.HEIC",
        "content_type": "image/heic",
        "media_type": "photo",
        "width": 4032,
        "height": None,
        "file_size": 2**62,
        "taken_at": taken,
        "taken_tz_offset": -420,
        "sort_at": taken.astimezone(UTC),
        "created_at": datetime(2026, 1, 2, 3, 4, 5, 678_901, tzinfo=UTC),
        "updated_at": datetime(1, 1, 2, tzinfo=UTC),
        "location_lat": 48.858_37,
        "location_lng": -2.294_481,
        "is_favorite": True,
        "is_hidden": False,
        "checksum_sha256": "ab" * 32,
        "thumbnail_status": "pending",
        "thumbnail_attempts": 0,
        "timezone": None,
        "title": "Zürich ✓",
        "description": None,
        "keywords": [],
        "persons": ["Ada Lovelace", "Zoë"],
        "place": {"name": "Zürich HB", "city": None, "country": "Schweiz"},
        "camera": None,
        "subtypes": ["live", "portrait"],
        "burst_id": None,
        "burst_key": False,
        "search_text": "img 0001 heic zurich",
    }
    row.update(overrides)
    return row


@pytest.fixture
def database(tmp_path: Path) -> Any:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    upgrade(engine)
    yield make_session_factory(engine)
    engine.dispose()


def stored(db: Any, photos_uuid: str) -> dict[str, Any]:
    """The row as SQLite holds it: the driver's own values, no SQLAlchemy type on the way."""
    cursor = db.connection().connection.driver_connection.execute(
        "SELECT * FROM photos WHERE photos_uuid = ?", (photos_uuid,)
    )
    names = [column[0] for column in cursor.description]
    return dict(zip(names, cursor.fetchone(), strict=True))


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"taken_at": None, "sort_at": datetime(9999, 12, 30, 23, 59, 59, 999_999, tzinfo=UTC)},
        {"keywords": ["a", "b"], "place": None, "camera": {"make": "Apple", "iso": 80, "aperture": 1.78}},
        {"is_favorite": False, "burst_id": "B1", "burst_key": True, "title": None, "subtypes": []},
    ],
)
def test_rows_written_by_the_driver_hold_what_sqlalchemy_writes(
    database: Any, overrides: dict[str, Any]
) -> None:
    with database() as db:
        user = User(username="ada", password_hash="x")
        db.add(user)
        db.flush()
        device = Device(user_id=user.id, name="Mac", hardware_id="h")
        db.add(device)
        db.flush()
        fast = photo_row(user.id, device.id, id=uuid.uuid4(), photos_uuid="FAST", **overrides)
        usual = photo_row(user.id, device.id, id=uuid.uuid4(), photos_uuid="USUAL", **overrides)
        insert_rows(db, PHOTOS, [fast])
        db.connection().execute(insert(PHOTOS), [usual])
        written, expected = stored(db, "FAST"), stored(db, "USUAL")
        assert written["id"] == fast["id"].hex and expected["id"] == usual["id"].hex
        differing = {name for name in expected if written[name] != expected[name]}
        assert differing == {"id", "photos_uuid"}
        assert db.execute(text("SELECT count(*) FROM photos")).scalar() == 2


@pytest.fixture
def postgres() -> Any:
    with fresh_postgres_database("ia_bulk") as url:
        engine = make_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        upgrade(engine)
        yield make_session_factory(engine)
        engine.dispose()


def stored_as_text(db: Any, photos_uuid: str) -> dict[str, Any]:
    """The row as PostgreSQL prints each of its columns."""
    found = db.execute(text("SELECT * FROM photos WHERE photos_uuid = :u"), {"u": photos_uuid})
    names = list(found.keys())
    columns = ", ".join(f"{name}::text" for name in names)
    row = db.execute(text(f"SELECT {columns} FROM photos WHERE photos_uuid = :u"), {"u": photos_uuid}).one()
    return dict(zip(names, row, strict=True))


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"keywords": ["a", "b"], "place": None, "camera": {"make": "Apple", "iso": 80, "aperture": 1.78}},
        {"title": "Ærø 東京 ✓", "search_text": "ærø 東京 img 0001 heic ab a zz", "subtypes": []},
        {"search_text": ""},
    ],
)
def test_rows_copied_on_postgres_hold_what_sqlalchemy_writes(
    postgres: Any, overrides: dict[str, Any]
) -> None:
    """COPY sends json values as their text and the search vector in tsvector's binary form
    (search.with_vectors): the same columns as an INSERT through SQLAlchemy, whose row gets
    its vector from the database's trigger (migration 0027)."""
    with postgres() as db:
        user = User(username="ada", password_hash="x")
        db.add(user)
        db.flush()
        device = Device(user_id=user.id, name="Mac", hardware_id="h")
        db.add(device)
        db.flush()
        fast = photo_row(user.id, device.id, id=uuid.uuid4(), photos_uuid="FAST", **overrides)
        usual = photo_row(user.id, device.id, id=uuid.uuid4(), photos_uuid="USUAL", **overrides)
        search.with_vectors(db, [fast])
        assert "search_vector" in fast
        insert_rows(db, PHOTOS, [fast])
        db.connection().execute(insert(PHOTOS), [usual])
        written, expected = stored_as_text(db, "FAST"), stored_as_text(db, "USUAL")
        assert written["id"] == str(fast["id"]) and expected["id"] == str(usual["id"])
        differing = {name for name in expected if written[name] != expected[name]}
        assert differing == {"id", "photos_uuid"}
        same = "SELECT search_vector = photo_search_vector(search_text) FROM photos"
        assert db.execute(text(same)).scalars().all() == [True, True]
