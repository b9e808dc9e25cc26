"""`agent setup`: one guided command, from choosing the library to the first pass."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from image_assistant.agent.permissions import full_disk_access_help
from tests.helpers.agent import LIB14, Agent, all_photos, wait_for_code
from tests.helpers.library import copy_library
from tests.helpers.server import REPO, Accounts, Server


def test_setup_yes_with_the_code_piped_pairs_writes_the_service_and_syncs_a_library(
    agent_server: Server, accounts: Accounts, fixtures_dir: Path, tmp_path: Path
) -> None:
    library = copy_library(fixtures_dir, LIB14, tmp_path)
    agent = Agent(agent_server, accounts.user(), tmp_path / "agent")
    home = tmp_path / "home"
    process = subprocess.Popen(
        agent.argv("setup", "--yes", "--server", agent_server.url, "--username", agent.user.username,
                   "--library", str(library), "--no-load"),
        env=agent.env() | {"HOME": str(home)},
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    _, code = wait_for_code(agent.user)
    out, err = process.communicate(code + "\n", timeout=300)
    assert process.returncode == 0, err + out

    assert f"Can read {library}" in out and "Paired as" in out
    unit = home / ".config" / "systemd" / "user" / "image-assistant-agent.service"
    assert f"Service written: {unit} (not loaded)" in out
    assert f"--config-dir {agent.config_dir.resolve()} run" in unit.read_text()
    assert out.rstrip().endswith("Status page: http://127.0.0.1:5219 (while the agent runs)")
    assert re.search(r"^\d+ photos, \d+ albums: \d+ metadata sent, \d+ uploaded", out, re.M)
    assert all_photos(agent.user)
    again = agent.sync()  # the first pass sent everything; the source is remembered
    assert (again["metadata_sent"], again["uploads"]) == (0, 0)


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A directory another user can use (pytest's own tmp is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="ia-setup-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def as_nobody(argv: list[str]) -> list[str]:
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *argv]


@pytest.mark.skipif(os.geteuid() != 0, reason="switching to another user needs root")
def test_an_unreadable_library_names_the_program_needing_access_and_is_checked_again(
    agent_server: Server, accounts: Accounts, fixtures_dir: Path, shared_tmp: Path
) -> None:
    library = copy_library(fixtures_dir, LIB14, shared_tmp)
    database = library / "database" / "Photos.sqlite"
    database.chmod(0o000)
    config = shared_tmp / "agent"
    config.mkdir(mode=0o777)
    config.chmod(0o777)
    user = accounts.user()
    # The system Python (root's own interpreter is not reachable by another user) with our packages.
    site = next((REPO / ".venv" / "lib").glob("python3*/site-packages"))
    env = {"PATH": os.environ["PATH"], "HOME": str(shared_tmp), "PYTHONPATH": f"{site}:{REPO / 'src'}",
           "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}  # fmt: skip
    process = subprocess.Popen(
        as_nobody(["/usr/bin/python3", "-m", "image_assistant.cli", "agent", "--config-dir", str(config),
                   "setup", "--server", agent_server.url, "--username", user.username,
                   "--library", str(library), "--no-service", "--no-sync"]),
        env=env, cwd=shared_tmp,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stderr is not None and process.stdin is not None
    refusal = [process.stderr.readline() for _ in range(2)]
    assert refusal[0].strip() == f"permission denied reading {database}"
    assert os.path.realpath("/usr/bin/python3") in refusal[1] and "nobody" in refusal[1]
    assert process.poll() is None  # waiting for Enter, not given up

    database.chmod(0o644)
    process.stdin.write("\n")
    process.stdin.flush()
    _, code = wait_for_code(user)
    out, err = process.communicate(code + "\n", timeout=120)
    assert process.returncode == 0, err + out
    assert "Checking again" in out and f"Can read {library}" in out and "Paired as" in out


def test_on_macos_the_help_names_the_interpreter_and_full_disk_access() -> None:
    text = full_disk_access_help("permission denied reading X", platform="darwin")
    assert "Full Disk Access" in text and os.path.realpath(os.sys.executable) in text
