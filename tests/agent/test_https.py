"""HTTPS by default: plain http:// to another machine is refused before any connection; a
private CA is trusted through --ca-bundle or the environment; an untrusted certificate is one line."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.agent import Agent, make_jpeg, wait_for_code
from tests.helpers.server import Accounts, Server
from tests.helpers.tls import TLSProxy


def this_machines_address() -> str:
    """An address of this machine that is not loopback (what a LAN server would have)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("10.255.255.255", 1))  # no packet is sent: this only picks a route
        address = str(probe.getsockname()[0])
    assert not address.startswith("127."), "this machine has no address besides loopback"
    return address


@pytest.fixture
def tls_proxy(agent_server: Server, tmp_path: Path) -> Iterator[TLSProxy]:
    proxy = TLSProxy(int(agent_server.url.rsplit(":", 1)[1]), tmp_path)
    yield proxy
    proxy.close()


def test_plain_http_to_another_machine_is_refused_before_any_connection(
    agent_server: Server, accounts: Accounts, tmp_path: Path
) -> None:
    listener = socket.create_server(("0.0.0.0", 0))
    listener.setblocking(False)
    url = f"http://{this_machines_address()}:{listener.getsockname()[1]}"
    agent = Agent(agent_server, accounts.user(), tmp_path / "agent")
    for command in ("pair", "setup"):
        args = [command, "--server", url, "--username", agent.user.username]
        result = agent.run(*args, *(["--yes", "--folder", str(tmp_path)] if command == "setup" else []),
                           check=False, timeout=60)  # fmt: skip
        assert result.returncode == 1
        message = result.stderr.strip()
        assert message.count("\n") == 0 and "refusing plain http://" in message and "--allow-http" in message
    with pytest.raises(BlockingIOError):
        listener.accept()  # nobody knocked
    listener.close()
    assert not (tmp_path / "agent" / "pairing.json").exists()


def test_a_private_ca_is_trusted_with_ca_bundle_or_the_environment(
    agent_server: Server, accounts: Accounts, tls_proxy: TLSProxy, tmp_path: Path
) -> None:
    user = accounts.user()
    untrusted = Agent(agent_server, user, tmp_path / "untrusted")
    result = untrusted.run("pair", "--server", tls_proxy.url, "--username", user.username,
                           check=False, timeout=60)  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "certificate is not trusted" in result.stderr
    assert "--ca-bundle" in result.stderr

    by_flag = Agent(agent_server, user, tmp_path / "by-flag")
    pair_over_tls(by_flag, tls_proxy.url, "--ca-bundle", str(tls_proxy.ca_file))
    photos = tmp_path / "photos"
    make_jpeg(photos / "a.jpg", (1, 2, 3), taken="2024:01:02 03:04:05")
    assert by_flag.sync("--folder", str(photos))["uploads"] == 1  # the CA is remembered

    by_env = Agent(agent_server, accounts.user(), tmp_path / "by-env")
    pair_over_tls(by_env, tls_proxy.url, env={"IMAGE_ASSISTANT_AGENT_CA_BUNDLE": str(tls_proxy.ca_file)})


def pair_over_tls(agent: Agent, url: str, *args: str, env: dict[str, str] | None = None) -> None:
    process = subprocess.Popen(
        agent.argv("pair", "--server", url, "--username", agent.user.username, *args),
        env=agent.env() | (env or {}),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    _, code = wait_for_code(agent.user)
    out, err = process.communicate(code + "\n", timeout=60)
    assert process.returncode == 0, err + out
    assert f"with {url}" in out
