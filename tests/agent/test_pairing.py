"""Pairing an agent: a wrong code can be retried, and the token is kept privately (file or keychain)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.helpers.agent import Agent, make_jpeg, paired_agent, start_pairing, wait_for_code
from tests.helpers.agent_keyring import keychain_env
from tests.helpers.server import Accounts, Server


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
