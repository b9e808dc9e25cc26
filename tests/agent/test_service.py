"""The agent as a service: its status page and Sync now, systemd and launchd files, SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import httpx

from tests.helpers.agent import Agent, all_photos, make_jpeg, wait_until
from tests.helpers.server import CLI, REPO, free_port


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
