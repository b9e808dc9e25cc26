"""Originals only in iCloud: fetched through the OriginalFetcher port into a budgeted staging folder,
uploaded, verified and deleted; a failure or a kill leaves nothing staged and the reason shown.

The fetcher is a stand-in (tests/helpers/fetchers.py) that copies from a folder playing iCloud;
on Linux without one, the originals wait with the reason "needs macOS".
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from image_assistant.agent.originals import NEEDS_MACOS
from tests.helpers.agent import LIB14, Agent, all_photos, download, photos_db, wait_until
from tests.helpers.library import copy_library
from tests.helpers.server import REPO

FETCHER = "IMAGE_ASSISTANT_AGENT_ORIGINAL_FETCHER"
HUGE_TIF = "8846E3E6"  # IMG_1693.tif, 48 MB in Photos' eyes: beyond a 30 MB budget


@pytest.fixture
def library(fixtures_dir: Path, tmp_path: Path) -> Path:
    return copy_library(fixtures_dir, LIB14, tmp_path)


@pytest.fixture
def cloud(library: Path, tmp_path: Path) -> dict[str, bytes]:
    """A folder playing iCloud, holding (small stand-ins for) every original not on disk."""
    folder = tmp_path / "icloud"
    folder.mkdir()
    held = {}
    for info in photos_db(library).photos():
        if info.ismissing or not (info.path and Path(info.path).is_file()):
            data = os.urandom(150_000)
            (folder / f"{info.uuid}.bin").write_bytes(data)
            held[info.uuid] = data
    return held


def use_stand_in(agent: Agent, name: str, tmp_path: Path, **extra: str) -> Path:
    log = tmp_path / "fetch.log"
    agent.extra_env = {
        FETCHER: f"tests.helpers.fetchers:{name}",
        "PYTHONPATH": str(REPO),
        "STAND_IN_CLOUD": str(tmp_path / "icloud"),
        "STAND_IN_LOG": str(log),
        **extra,
    }
    return log


def staged_files(agent: Agent) -> list[Path]:
    return [f for f in (agent.config_dir / "staging").rglob("*") if f.is_file()]


def test_without_a_way_to_fetch_originals_wait_with_the_reason_then_a_fetcher_brings_them_within_budget(
    agent: Agent, library: Path, cloud: dict[str, bytes], tmp_path: Path
) -> None:
    first = agent.sync("--library", str(library))
    assert first["waiting_for_original"] == len(cloud)
    assert first["waiting_reasons"] == {NEEDS_MACOS: len(cloud)}
    status = agent.run("status").stdout
    assert f"{len(cloud)} ({len(cloud)}: {NEEDS_MACOS})" in status

    log = use_stand_in(agent, "copying", tmp_path)
    second = agent.sync("--staging-max", "30MB")
    huge = next(u for u in cloud if u.startswith(HUGE_TIF))
    assert second["fetched_from_cloud"] == len(cloud) - 1
    (reason,) = second["waiting_reasons"]
    assert reason.startswith("larger than the staging budget")
    assert "downloaded from iCloud: 4 of 4" in agent.run("status").stdout
    everything = all_photos(agent.user) + all_photos(agent.user, hidden=True)
    photos = {p["photos_uuid"]: p for p in everything}
    for uuid, data in cloud.items():
        if uuid != huge:
            assert download(agent.user, f"/api/photos/{photos[uuid]['id']}/download") == data
    assert photos[huge]["has_original"] is False
    fetched = [line.split() for line in log.read_text().splitlines()]
    assert sorted(u for u, _ in fetched) == sorted(u for u in cloud if u != huge)
    assert staged_files(agent) == []  # every copy deleted once uploaded

    third = agent.sync("--staging-max", "100MB")
    assert (third["fetched_from_cloud"], third["waiting_for_original"]) == (1, 0)
    assert staged_files(agent) == []


def test_a_failed_download_leaves_nothing_staged_and_says_why(
    agent: Agent, library: Path, cloud: dict[str, bytes], tmp_path: Path
) -> None:
    use_stand_in(agent, "failing", tmp_path)
    report = agent.sync("--library", str(library))
    assert report["fetched_from_cloud"] == 0
    assert report["waiting_reasons"] == {"no network: Photos could not reach iCloud": len(cloud)}
    assert staged_files(agent) == []
    assert "no network: Photos could not reach iCloud" in agent.run("status").stdout


def test_a_pass_killed_while_downloading_resumes_and_cleans_what_it_left(
    agent: Agent, library: Path, cloud: dict[str, bytes], tmp_path: Path
) -> None:
    use_stand_in(agent, "slow", tmp_path, STAND_IN_DELAY="60")
    process = agent.popen("sync", "--json", "--library", str(library))
    try:
        wait_until(lambda: staged_files(agent), 60, "the slow download never started")
        wait_until(
            lambda: "downloading from iCloud: 0 of 4" in agent.run("status").stdout, 10, "no iCloud progress"
        )
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.communicate(timeout=30)
    assert staged_files(agent)  # the half-downloaded copy a kill leaves behind

    use_stand_in(agent, "copying", tmp_path)
    started = time.monotonic()
    report = agent.sync()
    assert report["fetched_from_cloud"] == len(cloud) and report["waiting_for_original"] == 0
    assert staged_files(agent) == [] and time.monotonic() - started < 60
