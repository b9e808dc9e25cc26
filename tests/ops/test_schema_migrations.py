"""Schema migrations keep data made by previous schemas: photo_files (0005) and photo facts (0006),
on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from alembic import command
from argon2 import PasswordHasher
from sqlalchemy import Engine, text

from image_assistant.db.session import alembic_config, make_engine
from tests.helpers.server import Accounts, Server, User, base_env, fresh_postgres_database

PASSWORD = "previous-schema-1"


@contextmanager
def database(backend: str, data_dir: Path) -> Iterator[dict[str, str]]:
    """Settings of an empty database on `backend` (SQLite in the data dir, or a new PostgreSQL one)."""
    if backend == "sqlite":
        yield {}
        return
    with fresh_postgres_database("ia_schema") as url:
        yield {"DATABASE_URL": url}


def _engine(env: dict[str, str], data_dir: Path) -> Engine:
    url = env.get("DATABASE_URL", "").replace("postgresql://", "postgresql+psycopg://")
    return make_engine(url or f"sqlite:///{data_dir / 'image-assistant.db'}")


def _put_object(data_dir: Path, key: str, body: bytes) -> None:
    path = data_dir / "objects" / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)


def _rows_of_schema_0004(engine: Engine, data_dir: Path) -> dict[str, object]:
    """A user, a device, a photo with its original, edited version and a declared Live video,
    and a photo still waiting for its original, as the schema before photo_files kept them."""
    user_id, device_id = uuid.uuid4(), uuid.uuid4()
    stored, waiting = uuid.uuid4(), uuid.uuid4()
    stored_uuid, waiting_uuid = str(uuid.uuid4()).upper(), str(uuid.uuid4()).upper()
    original, edited = b"original bytes " * 100, b"edited bytes " * 50
    original_sha = hashlib.sha256(original).hexdigest()
    edited_sha = hashlib.sha256(edited).hexdigest()
    original_key = f"originals/{user_id}/{stored_uuid[0]}/{stored_uuid}.jpg"
    edited_key = f"edited/{user_id}/{stored_uuid[0]}/{stored_uuid}.jpg"
    _put_object(data_dir, original_key, original)
    _put_object(data_dir, edited_key, edited)
    sqlite = engine.dialect.name == "sqlite"
    now = datetime.now(UTC).replace(tzinfo=None) if sqlite else datetime.now(UTC)

    def ident(value: uuid.UUID) -> object:
        return value.hex if sqlite else value  # how SQLAlchemy's Uuid type keeps ids on each engine

    username = f"old{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (id, username, password_hash, is_admin, created_at, updated_at)"
                " VALUES (:id, :name, :hash, false, :now, :now)"
            ),
            {"id": ident(user_id), "name": username, "hash": PasswordHasher().hash(PASSWORD), "now": now},
        )
        conn.execute(
            text(
                "INSERT INTO devices (id, user_id, name, hardware_id, platform, os_version, code_attempts,"
                " verified, status, token_generation, created_at, updated_at) VALUES (:id, :user, 'Old Mac',"
                " 'hw-old', 'macOS', '14', 0, true, 'active', 1, :now, :now)"
            ),
            {"id": ident(device_id), "user": ident(user_id), "now": now},
        )
        for photo_id, photos_uuid, key, sha in (
            (stored, stored_uuid, original_key, original_sha),
            (waiting, waiting_uuid, None, None),
        ):
            conn.execute(
                text(
                    "INSERT INTO photos (id, user_id, device_id, photos_uuid, filename, content_type,"
                    " media_type, file_size, sort_at, is_favorite, is_hidden, checksum_sha256, original_key,"
                    " original_sha256, thumbnail_status, thumbnail_attempts, created_at, updated_at)"
                    " VALUES (:id, :user, :device, :uuid, 'IMG_1.JPG', 'image/jpeg', 'live', :size, :now,"
                    " false, false, :sha, :key, :sha, 'pending', 0, :now, :now)"
                ),
                {
                    "id": ident(photo_id),
                    "user": ident(user_id),
                    "device": ident(device_id),
                    "uuid": photos_uuid,
                    "size": len(original) if key else None,
                    "sha": sha,
                    "key": key,
                    "now": now,
                },
            )
        conn.execute(
            text(
                "INSERT INTO photo_binaries (photo_id, kind, filename, declared_sha256, object_key,"
                " stored_sha256, size, updated_at) VALUES (:photo, 'edited', 'IMG_1_edited.jpg', :sha,"
                " :key, :sha, :size, :now),"
                " (:photo, 'live_video', 'IMG_1.MOV', :live, NULL, NULL, NULL, :now)"
            ),
            {
                "photo": ident(stored),
                "sha": edited_sha,
                "key": edited_key,
                "size": len(edited),
                "live": "c" * 64,
                "now": now,
            },
        )
        album = uuid.uuid4()
        conn.execute(
            text(
                "INSERT INTO albums (id, user_id, device_id, photos_uuid, title, album_type, folder_path,"
                " position, photo_count, created_at, updated_at) VALUES (:id, :user, :device, :uuid,"
                " 'Trip', 'user', '[]', 0, 2, :now, :now)"
            ),
            {
                "id": ident(album),
                "user": ident(user_id),
                "device": ident(device_id),
                "uuid": str(album).upper(),
                "now": now,
            },
        )
        conn.execute(
            text(
                "INSERT INTO album_photos (album_id, photo_id, position)"
                " VALUES (:album, :a, 0), (:album, :b, 1)"
            ),
            {"album": ident(album), "a": ident(stored), "b": ident(waiting)},
        )
    return {
        "album": str(album),
        "username": username,
        "stored": str(stored),
        "waiting": str(waiting),
        "stored_uuid": stored_uuid,
        "waiting_uuid": waiting_uuid,
        "original": original,
        "edited": edited,
        "original_key": original_key,
        "edited_key": edited_key,
    }


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_migrations_keep_every_file_and_photo_of_the_previous_schemas(backend: str, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with database(backend, data_dir) as db_env:
        env = {**base_env(data_dir), **db_env}
        engine = _engine(env, data_dir)
        command.upgrade(alembic_config(engine), "0004")
        made = _rows_of_schema_0004(engine, data_dir)
        command.upgrade(alembic_config(engine), "0005")
        made_0005 = _rows_of_schema_0005(engine, data_dir)

        server = Server(url="", env=env, data_dir=data_dir, backend=backend)
        server.cli("db", "upgrade")
        with engine.connect() as conn:
            source = conn.execute(
                text("SELECT thumbnail_source_key FROM photos WHERE photos_uuid = :u"),
                {"u": made["stored_uuid"]},
            ).scalar()
            tables = set(conn.execute(text("SELECT kind FROM photo_files")).scalars())
        engine.dispose()
        assert source == made["edited_key"]  # 0012: the thumbnails show the edit (remade: pending)
        assert tables == {"original", "edited", "live_video"}

        server.start()
        try:
            login = httpx.post(
                f"{server.url}/api/auth/login", json={"username": made["username"], "password": PASSWORD}
            )
            owner = User(str(made["username"]), PASSWORD, login.json()["token"], server.client())
            owner.http.headers["authorization"] = f"Bearer {owner.token}"
            listed = {p["id"]: p for p in owner.http.get("/api/photos").json()["photos"]}
            assert listed[made["stored"]]["has_original"] is True
            assert listed[made["waiting"]]["has_original"] is False
            for path, body in (("download", made["original"]), ("download/edited", made["edited"])):
                url = owner.http.get(f"/api/photos/{made['stored']}/{path}").json()["url"]
                assert httpx.get(url).content == body
            missing = owner.http.get(f"/api/photos/{made['stored']}/download/live_video")
            assert missing.status_code == 404
            album = owner.http.get(f"/api/albums/{made['album']}").json()
            assert [p["id"] for p in album["photos"]] == [made["stored"], made["waiting"]]

            device = Accounts(server).device(owner)
            pending = device.http.get("/api/sync/pending", params={"kinds": "original,edited,live_video"})
            items = {(i["photos_uuid"], i["kind"]) for i in pending.json()["items"]}
            assert items == {(made["stored_uuid"], "live_video"), (made["waiting_uuid"], "original")}
            owner.http.close()
            _photos_of_0005_have_empty_facts(server, made_0005)
        finally:
            server.stop()


def _rows_of_schema_0005(engine: Engine, data_dir: Path) -> dict[str, object]:
    """A user, a device, an album and a hidden photo with its stored original, as 0005 kept them."""
    user_id, device_id, photo_id, album_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    photos_uuid = str(uuid.uuid4()).upper()
    original = b"original of 0005 " * 64
    sha = hashlib.sha256(original).hexdigest()
    key = f"originals/{user_id}/{photos_uuid[0]}/{photos_uuid}.jpg"
    _put_object(data_dir, key, original)
    sqlite = engine.dialect.name == "sqlite"
    now = datetime.now(UTC).replace(tzinfo=None) if sqlite else datetime.now(UTC)

    def ident(value: uuid.UUID) -> object:
        return value.hex if sqlite else value

    username = f"old{uuid.uuid4().hex[:8]}"
    ids = {"user": ident(user_id), "device": ident(device_id), "photo": ident(photo_id), "now": now}
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (id, username, password_hash, is_admin, created_at, updated_at)"
                " VALUES (:user, :name, :hash, false, :now, :now)"
            ),
            {**ids, "name": username, "hash": PasswordHasher().hash(PASSWORD)},
        )
        conn.execute(
            text(
                "INSERT INTO devices (id, user_id, name, hardware_id, platform, os_version, code_attempts,"
                " verified, status, token_generation, created_at, updated_at) VALUES (:device, :user, 'Mac',"
                " 'hw-5', 'macOS', '14', 0, true, 'active', 1, :now, :now)"
            ),
            ids,
        )
        conn.execute(
            text(
                "INSERT INTO photos (id, user_id, device_id, photos_uuid, filename, content_type, media_type,"
                " file_size, sort_at, is_favorite, is_hidden, checksum_sha256, thumbnail_status,"
                " thumbnail_attempts, created_at, updated_at) VALUES (:photo, :user, :device, :uuid,"
                " 'IMG_5.JPG', 'image/jpeg', 'photo', :size, :now, true, true, :sha, 'pending', 0, :now,"
                " :now)"
            ),
            {**ids, "uuid": photos_uuid, "size": len(original), "sha": sha},
        )
        conn.execute(
            text(
                "INSERT INTO photo_files (photo_id, kind, filename, content_type, declared_sha256,"
                " object_key, sha256, size, stored_at, updated_at) VALUES (:photo, 'original',"
                " 'IMG_5.JPG', 'image/jpeg', :sha, :key, :sha, :size, :now, :now)"
            ),
            {**ids, "sha": sha, "key": key, "size": len(original)},
        )
        conn.execute(
            text(
                "INSERT INTO albums (id, user_id, device_id, photos_uuid, title, album_type, folder_path,"
                " position, photo_count, created_at, updated_at) VALUES (:album, :user, :device, :uuid,"
                " 'Old', 'user', '[]', 0, 1, :now, :now)"
            ),
            {**ids, "album": ident(album_id), "uuid": str(album_id).upper()},
        )
        conn.execute(
            text("INSERT INTO album_photos (album_id, photo_id, position) VALUES (:album, :photo, 0)"),
            {**ids, "album": ident(album_id)},
        )
    return {"username": username, "photo": str(photo_id), "photos_uuid": photos_uuid, "sha": sha}


def _photos_of_0005_have_empty_facts(server: Server, made: dict[str, object]) -> None:
    """A photo made before 0006 is shown, hidden, with its file, no facts, and takes new facts."""
    login = httpx.post(
        f"{server.url}/api/auth/login", json={"username": made["username"], "password": PASSWORD}
    )
    http = server.client(login.json()["token"])
    shown = http.get(f"/api/photos/{made['photo']}").json()
    assert (shown["photos_uuid"], shown["is_favorite"], shown["is_hidden"]) == (
        made["photos_uuid"],
        True,
        True,
    )
    assert [(f["kind"], f["sha256"]) for f in shown["files"]] == [("original", made["sha"])]
    facts = ("title", "keywords", "persons", "place", "camera", "subtypes", "burst_id", "burst_key")
    assert [shown[name] for name in facts] == [None, [], [], None, None, [], None, False]
    hidden = http.get("/api/photos", params={"hidden": "true"}).json()["photos"]
    assert [p["id"] for p in hidden] == [made["photo"]]
    assert http.get("/api/albums").json()["albums"][0]["photo_count"] == 0  # its only photo is hidden

    device = Accounts(server).device(User(str(made["username"]), PASSWORD, login.json()["token"], http))
    record = {"photos_uuid": made["photos_uuid"], "filename": "IMG_5.JPG", "keywords": ["kept"]}
    assert device.http.post("/api/sync/photos", json={"photos": [record]}).json()["updated"] == 1
    assert http.get(f"/api/photos/{made['photo']}").json()["keywords"] == ["kept"]
    http.close()
