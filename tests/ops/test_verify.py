"""`image-assistant verify`: a flipped byte, a deleted object and an orphan are found, on local and S3."""

from __future__ import annotations

import io

import pytest

from image_assistant.store.base import ObjectStore
from image_assistant.store.local import LocalStore
from tests.helpers.records import body_and_sha, photo_record
from tests.helpers.s3 import ensure_s3_server, make_s3_store
from tests.helpers.server import Accounts, Device, Server


@pytest.fixture(params=["library_server", "s3_postgres_server"])
def stored(request: pytest.FixtureRequest) -> Server:
    """SQLite + local store, and PostgreSQL + S3."""
    server: Server = request.getfixturevalue(request.param)
    return server


def behind_the_back(server: Server) -> ObjectStore:
    """The server's own store, opened directly: what a failing disk or a stray script touches."""
    if server.backend == "s3":
        return make_s3_store(ensure_s3_server(), server.env["MINIO_BUCKET"])
    return LocalStore(server.data_dir / "objects", signing_key=b"tests")


def upload_photos(device: Device, count: int) -> list[tuple[str, bytes]]:
    records = [photo_record(filename=f"IMG_{i}.JPG") for i in range(count)]
    bodies = [body_and_sha(20_000 + i, seed=r["photos_uuid"].encode()) for i, r in enumerate(records)]
    for record, (_, sha) in zip(records, bodies, strict=True):
        record["checksum_sha256"] = sha
    assert device.http.post("/api/sync/photos", json={"photos": records}).status_code == 200
    for record, (body, sha) in zip(records, bodies, strict=True):
        path = f"/api/sync/photos/{record['photos_uuid']}/original"
        put = device.http.put(path, content=body, headers={"x-content-sha256": sha})
        assert put.status_code == 200, put.text
    return [(r["photos_uuid"], b[0]) for r, b in zip(records, bodies, strict=True)]


def key_of(store: ObjectStore, owner_id: str, photos_uuid: str) -> str:
    keys = store.list_keys(f"originals/{owner_id}/")
    return next(k for k in keys if f"/{photos_uuid}." in k and not k.endswith(".json"))


def test_verify_finds_a_flipped_byte_a_deleted_object_and_an_orphan_and_repair_asks_again(
    stored: Server,
) -> None:
    accounts = Accounts(stored)
    try:
        device = accounts.device()
        user = device.owner.username
        owner_id = device.owner.http.get("/api/auth/me").json()["id"]
        photos = upload_photos(device, 3)
        store = behind_the_back(stored)
        (damaged_uuid, body), (missing_uuid, _), _ = photos
        damaged_key = key_of(store, owner_id, damaged_uuid)
        flipped = bytearray(body)
        flipped[100] ^= 0x01
        store.put(damaged_key, io.BytesIO(bytes(flipped)), content_type="image/jpeg")
        store.delete(key_of(store, owner_id, missing_uuid))
        orphan = f"originals/{owner_id}/0/00000000-0000-0000-0000-000000000000.jpg"
        store.put(orphan, io.BytesIO(b"left behind"), content_type="image/jpeg")

        found = stored.cli("verify", "--user", user, check=False)
        assert found.returncode == 1
        assert "checked 3 files" in found.stdout and "1 missing, 1 damaged, 1 orphaned" in found.stdout
        assert "verify: 3/3" in found.stderr  # the progress line
        assert f"photo {damaged_uuid} (IMG_0.JPG):\n  damaged original {damaged_key}" in found.stdout
        assert f"photo {missing_uuid} (IMG_1.JPG):\n  missing original" in found.stdout
        assert f"  {orphan}" in found.stdout

        sampled = stored.cli("verify", "--user", user, "--sample", "1", check=False)
        assert "checked 1 files" in sampled.stdout and sampled.returncode == 1  # the orphan still counts

        assert device.http.get("/api/sync/pending").json()["photos_uuids"] == []
        repaired = stored.cli("verify", "--user", user, "--repair", check=False)
        assert repaired.returncode == 1 and "repair: 2 files wanted again" in repaired.stdout
        wanted = device.http.get("/api/sync/pending").json()["photos_uuids"]
        assert sorted(wanted) == sorted([damaged_uuid, missing_uuid])
        bodies = dict(photos)
        for photos_uuid in wanted:  # what the agent does on its next pass
            sent = device.http.put(f"/api/sync/photos/{photos_uuid}/original", content=bodies[photos_uuid])
            assert sent.json()["status"] == "stored"
        store.delete(orphan)
        healed = stored.cli("verify", "--user", user)
        assert "checked 3 files" in healed.stdout and "0 missing, 0 damaged, 0 orphaned" in healed.stdout
    finally:
        accounts.close()


def test_verify_refuses_an_unknown_user_in_one_line(library_server: Server) -> None:
    result = library_server.cli("verify", "--user", "nobody-here", check=False)
    assert result.returncode != 0
    assert "no user named 'nobody-here'" in result.stderr and "Traceback" not in result.stderr
