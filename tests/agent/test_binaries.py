"""Binaries the agent sends: what the server lists as pending, and every kind landing intact on S3."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.agent import (
    CLOUD,
    all_photos,
    download,
    paired_agent,
    photos_db,
    sha256_bytes,
    sha256_file,
)
from tests.helpers.library import copy_library
from tests.helpers.s3 import ensure_s3_server, remove_bucket
from tests.helpers.server import Accounts, Server, start_server


def test_pending_binaries_page_through_every_kind_exactly_once(accounts: Accounts) -> None:
    device = accounts.device()
    uuids = [f"0B000000-0000-4000-8000-00000000000{i}" for i in range(7)]
    records = [
        {"photos_uuid": u, "filename": f"p{i}.heic", "checksum_sha256": f"{i:x}" * 64}
        | ({"edited_sha256": "e" * 64, "edited_filename": f"p{i}_edit.heic"} if i % 2 == 0 else {})
        | ({"live_video_sha256": "f" * 64, "live_video_filename": f"p{i}.mov"} if i % 3 == 0 else {})
        for i, u in enumerate(uuids)
    ]
    assert device.http.post("/api/sync/photos", json={"photos": records}).status_code == 200
    seen: list[tuple[str, str]] = []
    after = None
    for _ in range(20):
        params = {"kinds": "original,edited,live_video", "limit": 2} | ({"after": after} if after else {})
        body = device.http.get("/api/sync/pending", params=params).json()
        seen += [(item["photos_uuid"], item["kind"]) for item in body["items"]]
        after = body["next_after"]
        if not after:
            break
    expected = [(u, "original") for u in uuids]
    expected += [(u, "edited") for i, u in enumerate(uuids) if i % 2 == 0]
    expected += [(u, "live_video") for i, u in enumerate(uuids) if i % 3 == 0]
    assert sorted(seen) == sorted(expected) and len(seen) == len(set(seen))


def test_an_edit_declared_later_is_pending_and_a_reverted_edit_is_not(accounts: Accounts) -> None:
    device = accounts.device()
    plain = {"photos_uuid": "0C000000-0000-4000-8000-000000000001", "filename": "p.heic"}
    edit = {"edited_sha256": "e" * 64, "edited_filename": "p_edit.heic"}

    def pending_kinds() -> list[str]:
        body = device.http.get("/api/sync/pending", params={"kinds": "original,edited,live_video"}).json()
        return sorted(item["kind"] for item in body["items"])

    for record, kinds in (
        (plain, ["original"]),
        (plain | edit, ["edited", "original"]),
        (plain, ["original"]),
    ):
        assert device.http.post("/api/sync/photos", json={"photos": [record]}).status_code == 200
        assert pending_kinds() == kinds


@pytest.fixture(scope="module")
def s3_agent_server(tmp_path_factory: pytest.TempPathFactory, s3_env: dict[str, str]) -> Iterator[Server]:
    """A server on its own bucket, emptied and removed afterwards (the shared S3 server is small)."""
    env = s3_env | {"MINIO_BUCKET": f"ia-agent-{secrets.token_hex(4)}"}
    server = start_server(tmp_path_factory.mktemp("agent-s3"), "s3", env)
    yield server
    server.stop()
    remove_bucket(ensure_s3_server(), env["MINIO_BUCKET"])
    assert "Traceback" not in server.log_text()


def test_on_the_s3_store_every_binary_and_a_resumable_upload_land_intact(
    s3_agent_server: Server, fixtures_dir: Path, tmp_path: Path
) -> None:
    made = Accounts(s3_agent_server)
    try:
        library_agent = paired_agent(s3_agent_server, made, tmp_path / "lib-agent")
        library = copy_library(fixtures_dir, CLOUD, tmp_path)
        library_agent.sync("--library", str(library))
        live = photos_db(library).get_photo("0FFBE909-7142-4299-BA6F-9B6E7E8FB338")
        got = {p["photos_uuid"]: p for p in all_photos(library_agent.user)}[live.uuid]
        user = library_agent.user
        assert download(user, f"/api/photos/{got['id']}/download") == Path(live.path).read_bytes()
        assert (
            download(user, f"/api/photos/{got['id']}/download/edited") == Path(live.path_edited).read_bytes()
        )
        video = download(user, f"/api/photos/{got['id']}/download/live_video")
        assert video == Path(live.path_live_photo).read_bytes()

        folder_agent = paired_agent(s3_agent_server, made, tmp_path / "folder-agent")
        big = tmp_path / "videos" / "long.mp4"
        big.parent.mkdir()
        big.write_bytes(os.urandom(20 * 1024 * 1024))  # over the S3 store's multipart threshold (16 MiB)
        report = folder_agent.sync("--folder", str(big.parent), "--resumable-above-mb", "16")
        assert report["uploads"] == 1 and report["bytes_sent"] == big.stat().st_size
        (photo,) = all_photos(folder_agent.user)
        body = download(folder_agent.user, f"/api/photos/{photo['id']}/download")
        assert sha256_bytes(body) == sha256_file(big)
    finally:
        made.close()
