"""`pip install '.[agent]'` alone: none of the server's packages, and the agent still syncs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.helpers.agent import paired_agent
from tests.helpers.library import copy_library
from tests.helpers.server import REPO, Accounts, Server

SERVER_ONLY = ["fastapi", "uvicorn", "sqlalchemy", "psycopg", "boto3", "pyvips", "av", "alembic", "pydantic"]


def test_the_agent_installs_alone_and_syncs_a_library(
    agent_server: Server, accounts: Accounts, fixtures_dir: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "agent-venv"
    # This pip installs into the new venv (no copy of pip made there first), and no .pyc is
    # compiled ahead: what is installed is the same, in half the CPU time.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python, cli = str(venv / "bin" / "python"), str(venv / "bin" / "image-assistant")
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", python,
         "install", "--quiet", "--no-compile", f"{REPO}[agent]"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr[-3000:]

    present = subprocess.run(
        [python, "-c", "import importlib.util, sys; "
         "print(' '.join(m for m in sys.argv[1:] if importlib.util.find_spec(m)))", *SERVER_ONLY],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert present == []

    assert subprocess.run([cli, "agent", "--help"], capture_output=True, timeout=60).returncode == 0
    listing = subprocess.run([cli, "--help"], capture_output=True, text=True, timeout=60)
    assert listing.returncode == 0 and "serve" in listing.stdout
    serve = subprocess.run([cli, "serve", "--port", "1"], capture_output=True, text=True, timeout=60)
    assert serve.returncode == 1
    assert serve.stderr.strip() == (
        "Error: this command needs the server's packages: pip install 'image-assistant[server]'"
    )

    agent = paired_agent(agent_server, accounts, tmp_path / "agent-config", cli=cli)
    library = copy_library(fixtures_dir, "Test-14.0.0.photoslibrary", tmp_path)
    report = agent.sync("--library", str(library))
    assert report["photos"] > 0 and report["uploads"] > 0 and not report["failed"]
    assert agent.sync()["uploads"] == 0
