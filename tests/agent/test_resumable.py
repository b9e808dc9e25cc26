"""Large files in resumable parts: a pass killed or stopped mid-upload resumes; abandoned parts expire."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.helpers.agent import Agent, all_photos, download, make_jpeg, sha256_bytes, sha256_file
from tests.helpers.server import Accounts, Server, free_port, start_server

MIB = 1024 * 1024


def test_a_pass_killed_mid_upload_resumes_from_the_bytes_received_without_duplicates(
    agent_server: Server, agent: Agent, tmp_path: Path
) -> None:
    folder, big = shoot_with_a_big_video(tmp_path)
    staging = agent_server.data_dir / "uploads"
    process = agent.popen("sync", "--folder", str(folder), "--resumable-above-mb", "32")
    wait_for_staged(staging, 100 * MIB)
    process.send_signal(signal.SIGKILL)
    process.wait()
    held = settled_size(staging)  # the server drains what was in flight, then notices the drop
    assert 0 < held < big.stat().st_size
    the_next_sync_sends_the_rest(agent_server, agent, folder, big, held)


def test_agent_run_stopped_mid_upload_ends_its_part_in_flight_exits_0_and_the_next_sync_resumes(
    agent_server: Server, agent: Agent, tmp_path: Path
) -> None:
    """SIGTERM (what launchd and systemd send): no new file or part starts, the ones in flight end."""
    from image_assistant.agent.client import PART_SIZE

    folder, big = shoot_with_a_big_video(tmp_path)
    staging = agent_server.data_dir / "uploads"
    process = agent.popen(
        "run", "--folder", str(folder), "--resumable-above-mb", "32", "--status-port", str(free_port())
    )
    wait_for_staged(staging, 100 * MIB)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "stopped" in err and "Traceback" not in err
    held = settled_size(staging)
    assert 0 < held < big.stat().st_size and held % PART_SIZE == 0  # whole parts only: none cut
    assert agent.status_file()["phase"] == "stopped"
    the_next_sync_sends_the_rest(agent_server, agent, folder, big, held)


def shoot_with_a_big_video(tmp_path: Path) -> tuple[Path, Path]:
    """Six small photos and a 300 MiB video (uploaded in resumable parts above 32 MiB)."""
    folder = tmp_path / "shoot"
    for index in range(6):
        make_jpeg(folder / f"small{index}.jpg", (index, 0, 0), taken="2024:02:02 12:00:00")
    big = folder / "big.mov"
    with big.open("wb") as handle:
        for _ in range(30):
            handle.write(os.urandom(10 * MIB))
    return folder, big


def wait_for_staged(staging: Path, enough: int) -> None:
    deadline = time.monotonic() + 120
    received = 0
    while time.monotonic() < deadline and received < enough:
        received = sum(p.stat().st_size for p in staging.glob("*.part")) if staging.is_dir() else 0
        time.sleep(0.01)
    assert received >= enough, "the big upload never got going"


def the_next_sync_sends_the_rest(
    agent_server: Server, agent: Agent, folder: Path, big: Path, held: int
) -> None:
    """`agent sync` sends only what the server lacks: the big video from `held`, the small ones left."""
    staging = agent_server.data_dir / "uploads"
    with httpx.Client(
        base_url=agent_server.url, headers={"authorization": f"Bearer {agent.device_token()}"}
    ) as http:
        pending = http.get("/api/sync/pending").json()["photos_uuids"]
    by_uuid = {p["photos_uuid"]: p for p in all_photos(agent.user)}
    small_left = sum(
        (folder / p["filename"]).stat().st_size
        for u, p in by_uuid.items()
        if u in pending and p["filename"] != big.name
    )
    report = agent.sync()
    assert report["bytes_sent"] == big.stat().st_size - held + small_left
    photos = all_photos(agent.user)
    assert sorted(p["filename"] for p in photos) == sorted(p.name for p in folder.iterdir())
    assert all(p["has_original"] for p in photos)
    big_photo = next(p for p in photos if p["filename"] == big.name)
    assert sha256_bytes(download(agent.user, f"/api/photos/{big_photo['id']}/download")) == sha256_file(big)
    assert not list(staging.glob("*.part"))
    assert agent.sync()["bytes_sent"] == 0


def settled_size(staging: Path) -> int:
    """Bytes staged once they stop growing for a second."""
    last, stable_since = -1, time.monotonic()
    while time.monotonic() - stable_since < 1.0:
        current = sum(p.stat().st_size for p in staging.glob("*.part"))
        if current != last:
            last, stable_since = current, time.monotonic()
        time.sleep(0.1)
    return last


def test_parts_of_an_abandoned_upload_are_removed_after_the_configured_time(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    server = start_server(tmp_path_factory.mktemp("expiry"), "sqlite", {"RESUMABLE_UPLOAD_EXPIRES_IN": "1s"})
    made = Accounts(server)
    try:
        device = made.device()
        uuids = ["0A1B2C3D-0000-4000-8000-000000000001", "0A1B2C3D-0000-4000-8000-000000000002"]
        records = [{"photos_uuid": u, "filename": "v.mov", "content_type": "video/quicktime"} for u in uuids]
        assert device.http.post("/api/sync/photos", json={"photos": records}).status_code == 200
        body = {"photos_uuid": uuids[0], "kind": "original", "size": 1000, "sha256": "a" * 64}
        upload = device.http.post("/api/sync/uploads", json=body).json()
        part = device.http.patch(
            f"/api/sync/uploads/{upload['upload_id']}", content=b"x" * 400, headers={"upload-offset": "0"}
        )
        assert part.json()["offset"] == 400
        assert device.http.get(f"/api/sync/uploads/{upload['upload_id']}").json()["offset"] == 400
        assert len(list((server.data_dir / "uploads").glob("*.part"))) == 1
        time.sleep(2.5)
        other = {"photos_uuid": uuids[1], "kind": "original", "size": 10, "sha256": "b" * 64}
        assert device.http.post("/api/sync/uploads", json=other).status_code == 201
        assert device.http.get(f"/api/sync/uploads/{upload['upload_id']}").status_code == 404
        assert not list((server.data_dir / "uploads").glob("*.part"))

        wrong = device.http.post("/api/sync/uploads", json=other).json()
        last = device.http.patch(
            f"/api/sync/uploads/{wrong['upload_id']}", content=b"y" * 10, headers={"upload-offset": "0"}
        )
        assert last.status_code == 400 and last.json()["error"]["code"] == "checksum_mismatch"
        assert not list((server.data_dir / "uploads").glob("*.part"))
        pending = device.http.get("/api/sync/pending").json()["photos_uuids"]
        assert uuids[1] in pending  # nothing was stored
    finally:
        made.close()
        server.stop()
    assert "Traceback" not in server.log_text()
