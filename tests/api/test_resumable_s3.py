"""Resumable uploads on the S3 store: parts go to an S3 multipart upload as they arrive.

Through the real HTTP API and the real S3 server: parts are in S3 and not on the API host,
an interrupted agent resumes from whole parts, a wrong SHA-256 leaves nothing, two API
processes share one upload, and abandoned parts are aborted.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import signal
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers.agent import all_photos, download, paired_agent, sha256_file
from tests.helpers.s3 import ensure_s3_server, raw_client, remove_bucket
from tests.helpers.server import (
    Accounts,
    Device,
    Server,
    base_env,
    create_admin,
    free_port,
    fresh_postgres_database,
    start_server,
)

MiB = 1024 * 1024
PART = 8 * MiB


@pytest.fixture(scope="module")
def s3_api(tmp_path_factory: pytest.TempPathFactory, s3_env: dict[str, str]) -> Iterator[Server]:
    """SQLite + the real S3 server, on a bucket of its own, removed afterwards."""
    env = s3_env | {"MINIO_BUCKET": f"ia-res-{secrets.token_hex(4)}", "MAX_UPLOAD_BYTES": str(256 * MiB)}
    server = start_server(tmp_path_factory.mktemp("resumable-s3"), "s3", env)
    try:
        yield server
    finally:
        server.stop()
        remove_bucket(ensure_s3_server(), env["MINIO_BUCKET"])
    assert "Traceback" not in server.log_text()


@pytest.fixture
def accounts(s3_api: Server) -> Iterator[Accounts]:
    made = Accounts(s3_api)
    yield made
    made.close()


def s3() -> Any:
    return raw_client(ensure_s3_server())


def multiparts(bucket: str) -> list[dict[str, Any]]:
    return list(s3().list_multipart_uploads(Bucket=bucket, Prefix="uploads/").get("Uploads", []))


def part_sizes(bucket: str) -> list[int]:
    (upload,) = multiparts(bucket)
    parts = s3().list_parts(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"]).get("Parts", [])
    return [int(p["Size"]) for p in parts]


def keys(bucket: str, prefix: str) -> list[str]:
    return [o["Key"] for o in s3().list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]


def new_photo(device: Device, filename: str = "clip.mov") -> str:
    photos_uuid = str(uuid.uuid4()).upper()
    record = {"photos_uuid": photos_uuid, "filename": filename, "content_type": "video/quicktime"}
    assert device.http.post("/api/sync/photos", json={"photos": [record]}).status_code == 200
    return photos_uuid


def start(http: httpx.Client, photos_uuid: str, data: bytes, sha256: str | None = None) -> dict[str, Any]:
    body = {
        "photos_uuid": photos_uuid,
        "kind": "original",
        "size": len(data),
        "sha256": sha256 or hashlib.sha256(data).hexdigest(),
    }
    response = http.post("/api/sync/uploads", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def patch(http: httpx.Client, upload_id: str, offset: int, body: bytes) -> httpx.Response:
    return http.patch(f"/api/sync/uploads/{upload_id}", content=body, headers={"upload-offset": str(offset)})


def downloaded_sha256(device: Device, photos_uuid: str) -> str:
    photo = next(p for p in all_photos(device.owner) if p["photos_uuid"] == photos_uuid)
    return hashlib.sha256(download(device.owner, f"/api/photos/{photo['id']}/download")).hexdigest()


def test_the_parts_of_an_unfinished_upload_are_in_s3_and_not_on_the_api_host(
    s3_api: Server, accounts: Accounts
) -> None:
    bucket = s3_api.env["MINIO_BUCKET"]
    device = accounts.device()
    photos_uuid = new_photo(device)
    data = os.urandom(20 * MiB)
    upload = start(device.http, photos_uuid, data)
    assert upload["offset"] == 0 and upload["part_size"] == PART
    small = patch(device.http, upload["upload_id"], 0, data[:MiB])  # would keep nothing: refused
    assert small.status_code == 400 and small.json()["error"]["code"] == "part_too_small", small.text

    first = patch(device.http, upload["upload_id"], 0, data[: 10 * MiB])
    assert first.status_code == 200, first.text
    assert first.json()["offset"] == PART  # the 2 MiB past the first whole part are not kept
    assert part_sizes(bucket) == [PART]
    assert device.http.get(f"/api/sync/uploads/{upload['upload_id']}").json()["offset"] == PART
    staging = s3_api.data_dir / "uploads"
    assert not staging.exists() or not any(staging.iterdir())
    assert keys(bucket, "originals/") == []

    late = patch(device.http, upload["upload_id"], 10 * MiB, data[10 * MiB :])
    assert late.status_code == 409 and late.json()["error"]["details"]["offset"] == PART
    done = patch(device.http, upload["upload_id"], PART, data[PART:])
    assert done.status_code == 200 and done.json()["status"] == "stored", done.text
    assert downloaded_sha256(device, photos_uuid) == hashlib.sha256(data).hexdigest()
    (original,) = [k for k in keys(bucket, "originals/") if photos_uuid in k]
    assert s3().head_object(Bucket=bucket, Key=original)["ContentType"] == "video/quicktime"
    assert multiparts(bucket) == [] and keys(bucket, "uploads/") == []

    other = start(device.http, new_photo(device), data[: 9 * MiB])
    patch(device.http, other["upload_id"], 0, data[: 9 * MiB - 1])
    assert len(multiparts(bucket)) == 1
    assert device.http.delete(f"/api/sync/uploads/{other['upload_id']}").status_code == 200
    assert multiparts(bucket) == []


def test_a_wrong_sha256_stores_nothing_and_leaves_no_parts(s3_api: Server, accounts: Accounts) -> None:
    bucket = s3_api.env["MINIO_BUCKET"]
    device = accounts.device()
    photos_uuid = new_photo(device)
    data = os.urandom(9 * MiB)
    upload = start(device.http, photos_uuid, data, sha256=hashlib.sha256(b"other bytes").hexdigest())
    assert patch(device.http, upload["upload_id"], 0, data[:PART]).json()["offset"] == PART
    last = patch(device.http, upload["upload_id"], PART, data[PART:])
    assert last.status_code == 400 and last.json()["error"]["code"] == "checksum_mismatch"
    owner = keys(bucket, "")
    assert not [k for k in owner if photos_uuid in k]
    assert multiparts(bucket) == [] and keys(bucket, "uploads/") == []
    assert device.http.get(f"/api/sync/uploads/{upload['upload_id']}").status_code == 404
    assert photos_uuid in device.http.get("/api/sync/pending").json()["photos_uuids"]


def test_an_agent_killed_mid_upload_resends_only_what_s3_did_not_get(
    s3_api: Server, accounts: Accounts, tmp_path: Path
) -> None:
    bucket = s3_api.env["MINIO_BUCKET"]
    agent = paired_agent(s3_api, accounts, tmp_path / "agent")
    folder = tmp_path / "videos"
    folder.mkdir()
    big = folder / "long.mov"
    size = 48 * MiB + 12345
    big.write_bytes(os.urandom(size))

    process = agent.popen("sync", "--folder", str(folder), "--resumable-above-mb", "16")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and sum(stored_parts(bucket)) < 2 * PART:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    held = settled(bucket)
    assert 2 * PART <= held < size and held % PART == 0
    staging = s3_api.data_dir / "uploads"
    assert not staging.exists() or not any(staging.iterdir())

    report = agent.sync("--folder", str(folder), "--resumable-above-mb", "16")
    assert report["uploads"] == 1 and report["bytes_sent"] == size - held
    (photo,) = all_photos(agent.user)
    body = download(agent.user, f"/api/photos/{photo['id']}/download")
    assert hashlib.sha256(body).hexdigest() == sha256_file(big)
    assert multiparts(bucket) == [] and keys(bucket, "uploads/") == []


def stored_parts(bucket: str) -> list[int]:
    return part_sizes(bucket) if multiparts(bucket) else []


def settled(bucket: str) -> int:
    """Bytes in S3 parts once they stop growing for a second (the server drains what was in flight)."""
    last, stable_since = -1, time.monotonic()
    while time.monotonic() - stable_since < 1.0:
        current = sum(stored_parts(bucket))
        if current != last:
            last, stable_since = current, time.monotonic()
        time.sleep(0.1)
    return last


@pytest.fixture(scope="module")
def two_apis(tmp_path_factory: pytest.TempPathFactory, s3_env: dict[str, str]) -> Iterator[list[Server]]:
    """Two `serve` processes on one PostgreSQL database and one bucket.

    Parts expire after 1 s: expiry runs only when an upload starts, which these tests do
    once each, before their parts.
    """
    root = tmp_path_factory.mktemp("two-apis")
    with fresh_postgres_database("ia_res") as database_url:
        env = base_env(root / "shared") | s3_env
        env |= {
            "MINIO_BUCKET": f"ia-res-{secrets.token_hex(4)}",
            "DATABASE_URL": database_url,
            "JWT_SECRET": secrets.token_urlsafe(40),
            "RESUMABLE_UPLOAD_EXPIRES_IN": "1s",
        }
        create_admin(env)
        apis = [
            Server(
                url="",
                env=env | {"IMAGE_ASSISTANT_API_PORT": str(free_port())},
                data_dir=root / f"api{n}",
                backend=f"api{n}",
                serve_args=("--no-worker",),
            )
            for n in (1, 2)
        ]
        try:
            with ThreadPoolExecutor(2) as pool:
                list(pool.map(Server.start, apis))
            yield apis
        finally:
            for api in apis:
                api.stop()
            remove_bucket(ensure_s3_server(), env["MINIO_BUCKET"])
    for api in apis:
        assert "Traceback" not in api.log_text()


def test_two_api_processes_take_alternate_parts_of_one_upload(two_apis: list[Server]) -> None:
    first, second = two_apis
    bucket = first.env["MINIO_BUCKET"]
    made = Accounts(first)
    try:
        device = made.device()
        photos_uuid = new_photo(device)
        data = os.urandom(3 * PART + 5 * MiB)
        upload = start(device.http, photos_uuid, data)
        with second.client(device.token) as other:
            apis = [device.http, other, device.http, other]
            for number, http in enumerate(apis):
                offset = number * PART
                answer = patch(http, upload["upload_id"], offset, data[offset : offset + PART])
                assert answer.status_code == 200, answer.text
            assert answer.json()["status"] == "stored"
        assert downloaded_sha256(device, photos_uuid) == hashlib.sha256(data).hexdigest()
        assert multiparts(bucket) == [] and keys(bucket, "uploads/") == []
    finally:
        made.close()


def test_expiry_aborts_the_multipart_uploads_of_abandoned_and_orphan_parts(two_apis: list[Server]) -> None:
    first, second = two_apis
    bucket = first.env["MINIO_BUCKET"]
    made = Accounts(first)
    try:
        device = made.device()
        data = os.urandom(2 * PART)
        abandoned = start(device.http, new_photo(device), data)
        assert patch(device.http, abandoned["upload_id"], 0, data[: PART + 1]).json()["offset"] == PART
        s3().create_multipart_upload(Bucket=bucket, Key=f"uploads/{uuid.uuid4()}/{uuid.uuid4()}")
        s3().put_object(Bucket=bucket, Key=f"uploads/{uuid.uuid4()}/{uuid.uuid4()}", Body=b"left over")
        assert len(multiparts(bucket)) == 2
        time.sleep(2.5)

        with second.client(device.token) as other:
            fresh = start(other, new_photo(device), b"new")
        assert device.http.get(f"/api/sync/uploads/{abandoned['upload_id']}").status_code == 404
        (left,) = multiparts(bucket)  # only the fresh upload's
        assert left["Key"].endswith(fresh["upload_id"])
        assert keys(bucket, "uploads/") == []
    finally:
        made.close()
