"""`image-assistant migrate-storage`: an embedded install moved to PostgreSQL + S3 without loss."""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

import httpx
import psycopg

from tests.helpers.library import copy_library, sync_library
from tests.helpers.server import (
    ADMIN_PASSWORD,
    POSTGRES_ADMIN_URL,
    Accounts,
    Server,
    ensure_postgres,
    free_port,
    start_server,
)


def test_an_embedded_install_moves_to_postgres_and_s3_verified(
    tmp_path: Path, fixtures_dir: Path, s3_env: dict[str, str], s3_bucket: str
) -> None:
    source = start_server(tmp_path, "embedded", {})
    try:
        accounts = Accounts(source)
        device = accounts.device()
        photos, albums = sync_library(
            device.http, copy_library(fixtures_dir, "Test-14.0.0.photoslibrary", tmp_path)
        )
        before = device.owner.http.get("/api/photos", params={"limit": 500}).json()["photos"]
        user = device.owner
        accounts.close()
    finally:
        source.stop()

    ensure_postgres()
    name = f"ia_migrate_{secrets.token_hex(4)}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    target = {**s3_env, "MINIO_BUCKET": s3_bucket}
    target["DATABASE_URL"] = f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    env_file = tmp_path / "target.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in target.items()))
    try:
        moved = source.cli("migrate-storage", "--target-env", str(env_file))
        local = [p for p in photos if p.path is not None]
        copied = int(moved.stdout.split(" rows and ")[1].split(" objects")[0])
        assert copied >= len(local) and "all verified" in moved.stdout
        again = source.cli("migrate-storage", "--target-env", str(env_file), check=False)
        assert again.returncode != 0 and "not empty" in again.stderr

        moved_env = {**source.env, **target, "IMAGE_ASSISTANT_API_PORT": str(free_port())}
        server = Server(url="", env=moved_env, data_dir=source.data_dir, backend="moved")
        server.start()
        try:
            login = httpx.post(
                f"{server.url}/api/auth/login", json={"username": user.username, "password": user.password}
            )
            assert login.status_code == 200
            http = server.client(login.json()["token"])
            after = http.get("/api/photos", params={"limit": 500}).json()["photos"]
            assert [p["id"] for p in after] == [p["id"] for p in before]
            assert len(http.get("/api/albums").json()["albums"]) == len(albums)
            by_uuid = {p.record["photos_uuid"]: p for p in local}
            for row in after:
                if row["photos_uuid"] in by_uuid:
                    url = http.get(f"/api/photos/{row['id']}/download").json()["url"]
                    assert "X-Amz-Signature" in url
                    body = httpx.get(url).content
                    assert (
                        hashlib.sha256(body).hexdigest()
                        == by_uuid[row["photos_uuid"]].record["checksum_sha256"]
                    )
            admin = httpx.post(
                f"{server.url}/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
            )
            assert admin.status_code == 200
            http.close()
        finally:
            server.stop()
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
