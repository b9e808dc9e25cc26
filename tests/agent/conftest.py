"""The agent tests' own SQLite server, and a paired agent on it.

These tests start one SQLite server for the whole folder rather than the parametrised
`server`, so the heavy agent passes run once; tests that stop a server start their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.agent import Agent, paired_agent
from tests.helpers.server import Accounts, Server, start_server


@pytest.fixture(scope="package")
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
