"""The sync agent end to end: its CLI as a user runs it, against a real `image-assistant serve`.

These tests start their own SQLite server (one per module) rather than the parametrised
`server`, so the heavy agent passes run once.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers.agent import (
    Agent,
    album_members,
    all_photos,
    download,
    paired_agent,
    sha256_bytes,
    sha256_file,
    start_pairing,
    wait_for_code,
)
from tests.helpers.agent_keyring import keychain_env
from tests.helpers.server import CLI, REPO, Accounts, Server, free_port, start_server

LIB14 = "Test-14.0.0.photoslibrary"
CLOUD = "Test-Cloud-13.1.photoslibrary"


@pytest.fixture(scope="module")
def agent_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    extra = {"MAX_UPLOAD_BYTES": str(2 * 1024**3), "RESUMABLE_UPLOAD_EXPIRES_IN": "10m"}
    server = start_server(tmp_path_factory.mktemp("agent-server"), "sqlite", extra)
    yield server
    server.stop()
    log = server.log_text()
    assert "Traceback" not in log, f"server logged a traceback:\n{log[-4000:]}"


@pytest.fixture
def accounts(agent_server: Server) -> Iterator[Accounts]:
    made = Accounts(agent_server)
    yield made
    made.close()


@pytest.fixture
def agent(agent_server: Server, accounts: Accounts, tmp_path: Path) -> Agent:
    return paired_agent(agent_server, accounts, tmp_path / "agent-config")


def copy_library(fixtures_dir: Path, name: str, into: Path) -> Path:
    target = into / name
    shutil.copytree(fixtures_dir / name, target)
    return target


def photos_db(library: Path) -> Any:
    import logging

    import osxphotos

    logging.getLogger("osxphotos").setLevel(logging.ERROR)
    return osxphotos.PhotosDB(dbfile=str(library))


def on_disk(path: str | None) -> bool:
    return bool(path) and Path(str(path)).is_file()


# pairing


def test_pairing_keeps_the_token_in_a_private_file_and_a_wrong_code_can_be_retried(
    agent_server: Server, accounts: Accounts, tmp_path: Path
) -> None:
    agent = Agent(agent_server, accounts.user(), tmp_path / "cfg")
    process = start_pairing(agent, name="Kitchen Mac")
    device_id, code = wait_for_code(agent.user)
    wrong = "000000" if code != "000000" else "111111"
    out, err = process.communicate(f"{wrong}\n{code}\n", timeout=60)
    assert process.returncode == 0, err
    assert "not accepted" in out and "Paired" in out
    token_file = tmp_path / "cfg" / "token"
    assert token_file.stat().st_mode & 0o777 == 0o600
    assert code not in out.split("Paired")[-1]
    devices = {d["id"]: d for d in agent.user.http.get("/api/devices").json()["devices"]}
    assert devices[device_id]["status"] == "active"
    assert devices[device_id]["name"] == "Kitchen Mac"
    assert devices[device_id]["platform"] and devices[device_id]["hardware_id"]
    status = agent.run("status").stdout
    assert "Kitchen Mac" in status and agent_server.url in status


def test_pairing_without_a_valid_code_fails_with_one_clear_line(
    agent_server: Server, accounts: Accounts, tmp_path: Path
) -> None:
    agent = Agent(agent_server, accounts.user(), tmp_path / "cfg")
    process = start_pairing(agent)
    _, code = wait_for_code(agent.user)
    out, err = process.communicate("12345\n", timeout=60)  # too short, then end of input
    assert process.returncode != 0
    assert "not accepted" in out
    assert "Traceback" not in err and "pair" in err
    assert not (tmp_path / "cfg" / "token").exists()


# Photos libraries


@pytest.mark.parametrize("name", [LIB14, CLOUD])
def test_a_photos_library_arrives_as_osxphotos_reads_it_and_a_second_pass_sends_nothing(
    agent: Agent, fixtures_dir: Path, tmp_path: Path, name: str
) -> None:
    library = copy_library(fixtures_dir, name, tmp_path)
    report = agent.sync("--library", str(library))
    db = photos_db(library)
    expected = {p.uuid: p for p in db.photos()}
    user = agent.user

    assert user.http.get("/api/sync/status").json()["photos"] == len(expected)
    visible = {p["photos_uuid"]: p for p in all_photos(user)}
    local = {u for u, p in expected.items() if on_disk(p.path) and not p.ismissing}
    assert report["waiting_for_original"] == len(expected) - len(local)
    assert report["uploads"] >= len(local)
    for uuid, info in expected.items():
        if info.hidden:
            assert uuid not in visible
            continue
        got = visible[uuid]
        assert (got["width"], got["height"]) == (info.width, info.height)
        assert datetime.fromisoformat(got["taken_at"]) == info.date
        assert datetime.fromisoformat(got["taken_at"]).utcoffset() == info.date.utcoffset()
        lat, lng = info.location
        if lat is None:
            assert got["location"] is None
        else:
            assert got["location"] == pytest.approx({"lat": lat, "lng": lng})
        assert got["is_favorite"] == bool(info.favorite)
        assert got["timezone"] == info.tzname
        assert got["media_type"] == ("live" if info.live_photo else "video" if info.ismovie else "photo")
        assert got["has_original"] == (uuid in local)
        if uuid in local:
            assert sha256_bytes(download(user, f"/api/photos/{got['id']}/download")) == sha256_file(
                Path(info.path)
            )
        if info.hasadjustments and on_disk(info.path_edited):
            edited = download(user, f"/api/photos/{got['id']}/download/edited")
            assert sha256_bytes(edited) == sha256_file(Path(info.path_edited))
        if info.live_photo and on_disk(info.path_live_photo):
            video = download(user, f"/api/photos/{got['id']}/download/live_video")
            assert sha256_bytes(video) == sha256_file(Path(info.path_live_photo))

    albums = {a["photos_uuid"]: a for a in user.http.get("/api/albums").json()["albums"]}
    for album_type, source in (("user", db.album_info), ("shared", db.album_info_shared)):
        for album in source:
            got = albums[album.uuid]
            assert (got["title"], got["album_type"]) == (album.title, album_type)
            assert got["folder_path"] == list(album.folder_names)
            members = [p.uuid for p in album.photos if p.uuid in expected and not expected[p.uuid].hidden]
            assert album_members(user, got["id"]) == members
    favorites = [a for a in albums.values() if a["album_type"] == "favorites"]
    assert len(favorites) == 1
    wanted = {u for u, p in expected.items() if p.favorite and not p.hidden}
    assert set(album_members(user, favorites[0]["id"])) == wanted
    if name == LIB14:
        assert [a["title"] for a in albums.values()].count("Test Album") == 2
        assert any(a["title"] == "EmptyAlbum" and a["photo_count"] == 0 for a in albums.values())

    again = agent.sync()
    assert again["metadata_sent"] == 0 and again["uploads"] == 0 and again["bytes_sent"] == 0
    assert again["albums_sent"] is False


def test_changes_made_in_photos_reach_the_server_without_re_uploading_originals(
    agent: Agent, fixtures_dir: Path, tmp_path: Path
) -> None:
    library = copy_library(fixtures_dir, LIB14, tmp_path)
    agent.sync("--library", str(library))
    user = agent.user
    before = {p["photos_uuid"]: p for p in all_photos(user)}
    pumpkins2, pumpkins3, tulips = (
        "D79B8D77-BFFC-460B-9312-034F2877D35B",
        "1EB2B765-0765-43BA-A90C-0D0580E6172C",
        "6191423D-8DB8-4D4C-92BE-9BBBA308AAC4",
    )
    with sqlite3.connect(library / "database" / "Photos.sqlite") as conn:
        conn.execute("UPDATE ZASSET SET ZFAVORITE = 1 WHERE ZUUID = ?", (pumpkins2,))
        conn.execute(
            "DELETE FROM Z_28ASSETS WHERE Z_3ASSETS = (SELECT Z_PK FROM ZASSET WHERE ZUUID = ?)", (pumpkins3,)
        )
    render = Path(photos_db(library).get_photo(tulips).path_edited)
    new_edit = render.read_bytes() + b"\x00new edit"
    render.write_bytes(new_edit)
    raw = "D05A5FE3-15FB-49A1-A15D-AB3DA6F8B068"  # its original was only "in iCloud" so far
    assert before[raw]["has_original"] is False
    arrived = os.urandom(100_000)
    (library / "originals" / "D" / f"{raw}.dng").write_bytes(arrived)

    report = agent.sync()
    assert report["metadata_sent"] == 3  # the favorite, the new edit, the original now on disk
    assert report["albums_sent"] is True
    assert report["uploads"] == 2 and report["bytes_sent"] == len(new_edit) + len(arrived)
    after = {p["photos_uuid"]: p for p in all_photos(user)}
    assert after[pumpkins2]["is_favorite"] is True
    farm = next(a for a in user.http.get("/api/albums").json()["albums"] if a["title"] == "Pumpkin Farm")
    assert pumpkins3 not in album_members(user, farm["id"]) and len(album_members(user, farm["id"])) == 2
    assert download(user, f"/api/photos/{after[tulips]['id']}/download/edited") == new_edit
    assert download(user, f"/api/photos/{after[raw]['id']}/download") == arrived
    original = Path(photos_db(library).get_photo(tulips).path)
    assert download(user, f"/api/photos/{before[tulips]['id']}/download") == original.read_bytes()


# folders


def make_jpeg(path: Path, color: tuple[int, int, int], *, taken: str, offset: str | None = None,
              gps: tuple[float, float] | None = None) -> None:  # fmt: skip
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    exif = Image.Exif()
    details = exif.get_ifd(0x8769)
    details[0x9003] = taken
    if offset:
        details[0x9011] = offset
    if gps:
        lat, lng = gps
        exif.get_ifd(0x8825).update(
            {
                1: "N" if lat >= 0 else "S",
                2: (abs(lat), 0.0, 0.0),
                3: "E" if lng >= 0 else "W",
                4: (abs(lng), 0.0, 0.0),
            }
        )
    Image.new("RGB", (64, 48), color).save(path, exif=exif)


def test_a_folder_syncs_with_sub_folders_as_albums_then_new_changed_and_deleted_files(
    agent: Agent, tmp_path: Path
) -> None:
    root = tmp_path / "Card"
    make_jpeg(root / "a.jpg", (200, 0, 0), taken="2024:05:01 10:00:00", offset="+02:00", gps=(52.5, 13.25))
    make_jpeg(root / "Trip" / "b.jpg", (0, 200, 0), taken="2024:05:02 11:30:00")
    make_jpeg(root / "Trip" / "Day 2" / "c.jpg", (0, 0, 200), taken="2024:05:03 09:15:00")
    (root / "Trip" / "Day 2" / "clip.mov").write_bytes(os.urandom(300_000))
    (root / "Trip" / "broken.jpg").write_bytes(b"not a jpeg at all")  # unreadable EXIF: still synced
    (root / ".DS_Store").write_bytes(b"junk")

    first = agent.sync("--folder", str(root))
    assert (first["photos"], first["albums"], first["uploads"]) == (5, 2, 5)
    user = agent.user
    photos = {p["filename"]: p for p in all_photos(user)}
    assert set(photos) == {"a.jpg", "b.jpg", "c.jpg", "clip.mov", "broken.jpg"}
    assert photos["a.jpg"]["taken_at"] == "2024-05-01T10:00:00+02:00"
    assert photos["a.jpg"]["location"] == pytest.approx({"lat": 52.5, "lng": 13.25})
    assert (photos["a.jpg"]["width"], photos["a.jpg"]["height"]) == (64, 48)
    assert photos["clip.mov"]["media_type"] == "video"
    albums = {a["title"]: a for a in user.http.get("/api/albums").json()["albums"]}
    assert albums["Trip"]["folder_path"] == [] and albums["Day 2"]["folder_path"] == ["Trip"]
    assert len(album_members(user, albums["Day 2"]["id"])) == 2
    for name in ("a.jpg", "clip.mov"):
        path = root / name if name == "a.jpg" else root / "Trip" / "Day 2" / name
        assert download(user, f"/api/photos/{photos[name]['id']}/download") == path.read_bytes()

    make_jpeg(root / "Trip" / "d.jpg", (9, 9, 9), taken="2024:05:04 08:00:00")
    make_jpeg(root / "a.jpg", (1, 2, 3), taken="2024:05:01 10:00:00", offset="+02:00")
    (root / "Trip" / "Day 2" / "c.jpg").unlink()
    deleted = photos["c.jpg"]
    second = agent.sync()
    assert second["metadata_sent"] == 2 and second["uploads"] == 2
    assert second["deleted_reported"] == 1 and second["albums_sent"] is True
    photos = {p["filename"]: p for p in all_photos(user)}
    assert set(photos) == {"a.jpg", "b.jpg", "d.jpg", "clip.mov", "broken.jpg"}
    assert user.http.get(f"/api/photos/{deleted['id']}").status_code == 404  # hidden from the gallery
    kept = list((agent.server.data_dir / "objects" / "originals").rglob(f"{deleted['photos_uuid']}.jpg"))
    assert len(kept) == 1  # but its file is kept
    assert download(user, f"/api/photos/{photos['a.jpg']['id']}/download") == (root / "a.jpg").read_bytes()
    assert photos["a.jpg"]["location"] is None

    third = agent.sync()
    assert (third["metadata_sent"], third["uploads"], third["deleted_reported"]) == (0, 0, 0)


def test_a_photo_and_a_mov_of_the_same_name_in_a_folder_sync_as_one_live_photo(
    agent: Agent, tmp_path: Path
) -> None:
    folder = tmp_path / "export"
    make_jpeg(folder / "IMG_0042.JPG", (4, 4, 4), taken="2024:07:07 07:07:07")
    motion = os.urandom(50_000)
    (folder / "IMG_0042.MOV").write_bytes(motion)
    report = agent.sync("--folder", str(folder))
    assert report["photos"] == 1 and report["uploads"] == 2
    (photo,) = all_photos(agent.user)
    assert photo["filename"] == "IMG_0042.JPG" and photo["media_type"] == "live"
    assert download(agent.user, f"/api/photos/{photo['id']}/download/live_video") == motion


# failures


def test_a_revoked_device_stops_the_agent_and_says_to_pair_again(agent: Agent, tmp_path: Path) -> None:
    folder = tmp_path / "f"
    make_jpeg(folder / "x.jpg", (5, 5, 5), taken="2024:01:01 00:00:00")
    agent.sync("--folder", str(folder))
    assert agent.user.http.delete(f"/api/devices/{agent.device_id()}").status_code == 200
    result = agent.run("sync", check=False)
    assert result.returncode == 3
    assert "pair again" in result.stderr and "Traceback" not in result.stderr
    running = agent.run(
        "run", "--interval", "3600", "--status-port", str(free_port()), check=False, timeout=120
    )
    assert running.returncode == 3 and "pair again" in running.stderr  # the loop stops too

    import plistlib

    from image_assistant.agent import service

    # What launchd runs on macOS: exit 3 becomes a clean exit, so launchd does not restart it;
    # other failures keep their code (and are restarted).
    launchd = plistlib.loads(service.service_file(agent.config_dir, platform="darwin").text.encode())
    env = agent.env() | {"IMAGE_ASSISTANT_AGENT_STATUS_PORT": str(free_port())}
    wrapped = subprocess.run(
        launchd["ProgramArguments"], env=env, capture_output=True, text=True, timeout=120
    )
    assert wrapped.returncode == 0 and "pair again" in wrapped.stderr
    failing = [*launchd["ProgramArguments"][:4], "sh", "-c", "exit 4"]
    assert subprocess.run(failing, capture_output=True, timeout=30).returncode == 4


def test_a_server_that_is_down_for_a_while_is_waited_for(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    server = start_server(tmp_path_factory.mktemp("down"), "sqlite", {})  # its own: this test stops it
    made = Accounts(server)
    try:
        agent = paired_agent(server, made, tmp_path / "cfg")
        folder = tmp_path / "f"
        make_jpeg(folder / "x.jpg", (5, 5, 5), taken="2024:01:01 00:00:00")
        server.stop()
        try:
            started = time.monotonic()
            short = agent.run("sync", "--folder", str(folder), "--retry-window", "2", check=False, timeout=60)
            assert short.returncode == 4 and time.monotonic() - started < 30  # window shorter than outage
            assert "server unreachable" in short.stderr and "Traceback" not in short.stderr
            assert len(short.stderr.strip().splitlines()) == 1

            process = agent.popen("sync", "--json")  # the default window: 10 minutes
            time.sleep(3)
            assert process.poll() is None, "the agent gave up while the server was down"
            assert agent.status_file()["server_reachable"] is False  # said while still retrying
        finally:
            server.start()
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        assert json.loads(out.strip().splitlines()[-1])["uploads"] == 1
        assert agent.status_file()["server_reachable"] is True
        assert [p["filename"] for p in all_photos(agent.user)] == ["x.jpg"]
    finally:
        made.close()
        server.stop()
    assert "Traceback" not in server.log_text()


def test_agent_run_outlives_an_outage_longer_than_its_retry_window_and_then_finishes_the_job(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    server = start_server(tmp_path_factory.mktemp("outage"), "sqlite", {})  # its own: this test stops it
    made = Accounts(server)
    process: subprocess.Popen[str] | None = None
    try:
        agent = paired_agent(server, made, tmp_path / "cfg")
        folder = tmp_path / "f"
        for index in range(2):
            make_jpeg(folder / f"before{index}.jpg", (index, 1, 1), taken="2024:04:04 04:04:04")
        port = free_port()
        process = agent.popen(
            "run", "--folder", str(folder), "--interval", "2", "--status-port", str(port),
            "--retry-window", "3", "--retry-max-delay", "1",
        )  # fmt: skip
        status_url = f"http://127.0.0.1:{port}/status.json"
        wait_until(lambda: agent.status_file().get("last_success_at"), 60, "the first pass never finished")
        assert len(all_photos(agent.user)) == 2

        server.stop()
        outage_began = time.time()
        for index in range(3):
            make_jpeg(folder / f"during{index}.jpg", (index, 2, 2), taken="2024:04:04 05:05:05")
        time.sleep(20)  # several passes of 3 s retries + 2 s intervals, each giving up
        assert process.poll() is None, f"`agent run` ended during the outage: {process.stderr.read()}"
        status = httpx.get(status_url, timeout=5).json()
        assert status["server_reachable"] is False and status["phase"] != "idle"
        failures = [e for e in status["errors"] if "server unreachable" in e["message"]]
        assert len(failures) >= 2  # pass after pass gave up, and `run` went on
        last = datetime.fromisoformat(failures[-1]["at"].replace("Z", "+00:00")).timestamp()
        assert last >= outage_began - 1
        assert not any("during" in e["message"] for e in status["errors"])  # ids and reasons, no content
        assert "unreachable" in agent.run("status").stdout

        server.start()  # same port, same data dir
        before = status["last_success_at"]
        wait_until(
            lambda: httpx.get(status_url, timeout=5).json()["last_success_at"] != before,
            30,
            "no pass succeeded once the server was back",
        )
        assert httpx.get(status_url, timeout=5).json()["server_reachable"] is True
        photos = all_photos(agent.user)
        names = sorted(p["filename"] for p in photos)
        assert names == sorted(p.name for p in folder.iterdir()) and len(names) == 5  # each exactly once
        assert all(p["has_original"] for p in photos)
        assert agent.user.http.get("/api/sync/status").json()["photos"] == 5

        process.send_signal(signal.SIGTERM)  # between passes: it ends at once, and cleanly
        _, err = process.communicate(timeout=30)
        assert process.returncode == 0 and "stopped" in err and "Traceback" not in err
    finally:
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
        made.close()
        server.stop()
    assert "Traceback" not in server.log_text()


def wait_until(check: Any, timeout: float, message: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(message)


def test_after_a_pass_that_found_no_server_the_next_starts_as_soon_as_it_answers_again() -> None:
    from image_assistant.agent.client import ServerUnreachable
    from image_assistant.agent.runner import Scheduler
    from image_assistant.agent.sync import PassReport

    passes: list[float] = []
    answers = iter([False, False, True])

    def one_pass() -> PassReport:
        passes.append(time.monotonic())
        if len(passes) == 1:
            raise ServerUnreachable("server unreachable: test")
        scheduler.stop()
        return PassReport()

    scheduler = Scheduler(3600, one_pass, probe=lambda: next(answers, True), probe_every=0.05)
    scheduler.loop()
    assert len(passes) == 2 and passes[1] - passes[0] < 5  # not an hour later


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


MIB = 1024 * 1024


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


# status page and service


def test_the_status_page_shows_progress_and_sync_now_starts_a_pass(agent: Agent, tmp_path: Path) -> None:
    folder = tmp_path / "f"
    make_jpeg(folder / "one.jpg", (1, 1, 1), taken="2024:03:03 03:03:03")
    port = free_port()
    process = agent.popen("run", "--folder", str(folder), "--interval", "3600", "--status-port", str(port))
    try:
        page_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not agent.status_file().get("last_success_at"):
            time.sleep(0.2)
        status = httpx.get(f"{page_url}/status.json").json()
        assert status["photos"] == 1 and status["server_reachable"] is True and status["last_success_at"]
        page = httpx.get(page_url).text
        assert "Sync now" in page and "Last successful sync" in page
        token = page.split('name="token" value="')[1].split('"')[0]
        assert httpx.post(f"{page_url}/sync-now", data={"token": "wrong"}).status_code == 403
        forged_host = httpx.post(
            f"{page_url}/sync-now", data={"token": token}, headers={"host": "evil.example"}
        )
        assert forged_host.status_code == 403

        make_jpeg(folder / "two.jpg", (2, 2, 2), taken="2024:03:03 03:03:04")
        assert httpx.post(f"{page_url}/sync-now", data={"token": token}).status_code == 303
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(all_photos(agent.user)) < 2:
            time.sleep(0.2)
        assert len(all_photos(agent.user)) == 2
        busy = agent.run("sync", check=False)
        assert busy.returncode != 0 and "another agent is running" in busy.stderr
        terminal = agent.run("status").stdout
        assert "Photos:" in terminal and "Last successful sync" in terminal
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_install_service_writes_a_systemd_user_unit_that_runs_the_agent(agent: Agent, tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = agent.env() | {"HOME": str(home)}
    result = subprocess.run(
        agent.argv("install-service", "--no-load"), env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    unit = home / ".config" / "systemd" / "user" / "image-assistant-agent.service"
    text = unit.read_text()
    assert f"--config-dir {agent.config_dir}" in text and text.strip().splitlines()[0] == "[Unit]"
    assert "agent" in text and " run" in text and "RestartPreventExitStatus=3" in text
    result = subprocess.run(
        agent.argv("uninstall-service", "--no-load"), env=env, capture_output=True, text=True
    )
    assert result.returncode == 0 and not unit.exists()


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


def test_the_reference_service_files_match_what_install_service_writes() -> None:
    import configparser
    import plistlib

    from image_assistant.agent import service

    deploy = REPO / "deploy" / "agent"
    reference_plist = plistlib.loads((deploy / "com.image-assistant.agent.plist").read_bytes())
    written_plist = plistlib.loads(
        service.service_file(Path("/cfg"), platform="darwin", home=Path("/Users/you")).text.encode()
    )
    assert set(reference_plist) == set(written_plist)
    assert reference_plist["ProgramArguments"][:4] == written_plist["ProgramArguments"][:4]
    assert reference_plist["ProgramArguments"][5:7] == written_plist["ProgramArguments"][-4:-2]
    assert reference_plist["ProgramArguments"][-1] == written_plist["ProgramArguments"][-1] == "run"

    def unit(text: str) -> configparser.ConfigParser:
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        parser.read_string(text)
        return parser

    reference = unit((deploy / "image-assistant-agent.service").read_text())
    written = unit(service.service_file(Path("/cfg"), platform="linux", home=Path("/home/you")).text)
    for section in ("Unit", "Service", "Install"):
        assert dict(reference[section]).keys() == dict(written[section]).keys()
    command = reference["Service"]["ExecStart"].split()[1:]
    result = subprocess.run([CLI, *command, "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def s3_agent_server(tmp_path_factory: pytest.TempPathFactory, s3_env: dict[str, str]) -> Iterator[Server]:
    """A server on its own bucket, emptied and removed afterwards (the shared S3 server is small)."""
    env = s3_env | {"MINIO_BUCKET": f"ia-agent-{secrets.token_hex(4)}"}
    server = start_server(tmp_path_factory.mktemp("agent-s3"), "s3", env)
    yield server
    server.stop()
    remove_bucket(env)
    assert "Traceback" not in server.log_text()


def remove_bucket(env: dict[str, str]) -> None:
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=env["MINIO_ENDPOINT"],
        aws_access_key_id=env["MINIO_ACCESS_KEY"],
        aws_secret_access_key=env["MINIO_SECRET_KEY"],
        region_name="us-east-1",
    )
    bucket = env["MINIO_BUCKET"]
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        if keys:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": keys})
    s3.delete_bucket(Bucket=bucket)


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


def test_where_a_keychain_exists_the_token_goes_there_and_not_into_a_file(
    agent_server: Server, accounts: Accounts, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keychain = tmp_path / "keychain.json"
    monkeypatch.setattr(
        Agent,
        "env",
        lambda self: {k: v for k, v in os.environ.items() if not k.startswith("IMAGE_ASSISTANT_")}
        | keychain_env(keychain),
    )
    agent = paired_agent(agent_server, accounts, tmp_path / "cfg")
    assert not (tmp_path / "cfg" / "token").exists()
    stored = json.loads(keychain.read_text())
    assert list(stored) == [f"image-assistant-agent/{agent.device_id()}"]
    folder = tmp_path / "f"
    make_jpeg(folder / "k.jpg", (7, 7, 7), taken="2024:01:01 00:00:00")
    assert agent.sync("--folder", str(folder))["uploads"] == 1  # the token was read back from there


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


def test_what_launchd_runs_passes_sigterm_to_the_agent_which_stops_cleanly(
    agent: Agent, tmp_path: Path
) -> None:
    """launchd signals the job's shell; the agent under it must get the SIGTERM and end cleanly."""
    import plistlib

    from image_assistant.agent import service

    launchd = plistlib.loads(service.service_file(agent.config_dir, platform="darwin").text.encode())
    folder = tmp_path / "f"
    make_jpeg(folder / "one.jpg", (3, 3, 3), taken="2024:05:05 05:05:05")
    env = agent.env() | {"IMAGE_ASSISTANT_AGENT_STATUS_PORT": str(free_port())}
    process = subprocess.Popen(
        [*launchd["ProgramArguments"], "--folder", str(folder)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: agent.status_file().get("last_success_at"), 60, "the first pass never finished")
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
        assert process.returncode == 0 and "stopped" in err and "Traceback" not in err
        left = subprocess.run(["pgrep", "-f", str(agent.config_dir)], capture_output=True, text=True)
        assert left.stdout == "", "the agent outlived the shell launchd signalled"
    finally:
        process.kill()
        subprocess.run(["pkill", "-KILL", "-f", str(agent.config_dir)], check=False)
    assert [p["filename"] for p in all_photos(agent.user)] == ["one.jpg"]
