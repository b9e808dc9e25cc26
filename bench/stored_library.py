"""A stored library for the verify and export benchmarks: N photos with their originals in a
local store (random bytes), rows written in-process on a SQLite data dir migrated by the CLI."""

from __future__ import annotations

import hashlib
import os
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from image_assistant.config import Settings
from image_assistant.db.models import Album, AlbumPhoto, Device, Photo, PhotoFile, User
from image_assistant.db.session import make_engine, make_session_factory
from image_assistant.store.keys import photo_file_key
from image_assistant.store.local import LocalStore

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import cli, server_env  # noqa: E402

BATCH = 1000


@dataclass
class StoredLibrary:
    env: dict[str, str]
    sessions: sessionmaker[Session]
    store: LocalStore
    root: Path  # the store's directory
    user_id: uuid.UUID
    keys: list[str]
    bytes: int


def build(data_dir: Path, *, count: int, size: int, albums: int = 0, per_album: int = 0) -> StoredLibrary:
    """`count` photos of `size` random bytes; the first `albums * per_album` in albums of `per_album`."""
    env = server_env(data_dir)
    cli(env, "users", "create", "owner", input="bench-owner-password\n")  # migrates the database
    settings = Settings(IMAGE_ASSISTANT_DATA_DIR=data_dir)
    sessions = make_session_factory(make_engine(settings.sqlalchemy_url))
    root = settings.local_store_root
    store = LocalStore(root, signing_key=b"bench")
    keys: list[str] = []
    with sessions() as db:
        user_id = db.scalars(select(User.id).where(User.username == "owner")).one()
        device = Device(
            user_id=user_id, name="Bench Mac", hardware_id="bench", verified=True, status="active"
        )
        db.add(device)
        db.flush()
        folders = [
            Album(
                user_id=user_id,
                device_id=device.id,
                photos_uuid=str(uuid.uuid4()).upper(),
                title=f"Album {a}",
                folder_path=["Trips"] if a % 2 else [],
            )
            for a in range(albums)
        ]
        db.add_all(folders)
        db.flush()
        start = datetime(2020, 1, 1, tzinfo=UTC)
        for first in range(0, count, BATCH):
            links = []
            for i in range(first, min(first + BATCH, count)):
                photos_uuid = str(uuid.uuid4()).upper()
                filename = f"IMG_{i:05d}.JPG"
                key = photo_file_key("originals", user_id, photos_uuid, filename)
                body = os.urandom(size)
                path = root / key
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(body)
                sha = hashlib.sha256(body).hexdigest()
                taken = start + timedelta(minutes=i)
                photo = Photo(
                    id=uuid.uuid4(),
                    user_id=user_id,
                    device_id=device.id,
                    photos_uuid=photos_uuid,
                    filename=filename,
                    content_type="image/jpeg",
                    taken_at=taken,
                    sort_at=taken,
                    checksum_sha256=sha,
                    file_size=size,
                )
                db.add(photo)
                db.add(
                    PhotoFile(
                        photo_id=photo.id,
                        kind="original",
                        filename=filename,
                        content_type="image/jpeg",
                        declared_sha256=sha,
                        object_key=key,
                        sha256=sha,
                        size=size,
                        stored_at=taken,
                    )
                )
                if per_album and i < albums * per_album:
                    links.append(
                        AlbumPhoto(album_id=folders[i // per_album].id, photo_id=photo.id, position=i)
                    )
                keys.append(key)
            db.flush()  # photos first: the memberships point at them
            db.add_all(links)
            db.commit()
    return StoredLibrary(env, sessions, store, root, user_id, keys, count * size)
