"""When the server is away or says no: a revoked device, a server down a while, a long outage."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers.agent import Agent, all_photos, make_jpeg, paired_agent, wait_until
from tests.helpers.server import Accounts, free_port, start_server


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

        def unreachable(status: dict[str, Any]) -> list[dict[str, Any]]:
            return [e for e in status["errors"] if "server unreachable" in e["message"]]

        # Pass after pass gives up (3 s retries, 2 s apart), and `run` goes on.
        wait_until(
            lambda: len(unreachable(httpx.get(status_url, timeout=5).json())) >= 2,
            60,
            "no two passes gave up during the outage",
        )
        assert process.poll() is None, f"`agent run` ended during the outage: {process.stderr.read()}"
        status = httpx.get(status_url, timeout=5).json()
        assert status["server_reachable"] is False and status["phase"] != "idle"
        failures = unreachable(status)
        assert len(failures) >= 2
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
