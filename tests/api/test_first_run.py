"""First run: the first account is made in the browser, safely, and only once."""

from __future__ import annotations

import re
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers.server import Server, base_env


def _own_network_address() -> str | None:
    """An address of this machine that is not loopback (None when there is none)."""
    try:
        out = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    for address in re.findall(r"inet (\d+\.\d+\.\d+\.\d+)/", out):
        if not address.startswith("127."):
            return address
    return None


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[Server]:
    """A server on an empty data dir, listening on every address, with no account at all."""
    data_dir = tmp_path / "fresh"
    env = {**base_env(data_dir), "INVITATION_EXPIRES_IN": "2"}  # seconds: links expire in a test
    server = Server(url="", env=env, data_dir=data_dir, backend="sqlite")
    server.serve_args = ("--host", "0.0.0.0")
    server.start()
    yield server
    server.stop()
    assert "Traceback" not in server.log_text()


def _printed_code(server: Server) -> str:
    found = re.search(r"setup code: ([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})", server.log_text())
    assert found, server.log_text()[-2000:]
    return found.group(1)


def test_the_first_account_is_made_once_from_loopback(fresh_server: Server) -> None:
    code_file = fresh_server.data_dir / "setup-code"
    assert stat.S_IMODE(code_file.stat().st_mode) == 0o600
    assert code_file.read_text().strip() == _printed_code(fresh_server)
    with fresh_server.client() as http:
        assert http.get("/api/setup").json() == {"open": True, "code_required": False}
        weak = http.post("/api/setup", json={"username": "owner", "password": "short"})
        assert weak.status_code == 422 and http.get("/api/setup").json()["open"] is True
        made = http.post("/api/setup", json={"username": "owner", "password": "owner password 1"})
        assert made.status_code == 201, made.text
        assert "ia_session=" in made.headers["set-cookie"]
        assert http.get("/api/auth/me").json() == {**http.get("/api/auth/me").json(), "is_admin": True}
        assert http.get("/api/setup").json() == {"open": False, "code_required": False}
        again = http.post("/api/setup", json={"username": "second", "password": "second password 1"})
        assert again.status_code == 409 and again.json()["error"]["code"] == "setup_closed"
        # The only administrator can neither step down nor be disabled.
        me = http.get("/api/auth/me").json()["id"]
        for change in ({"is_admin": False}, {"disabled": True}):
            refused = http.patch(f"/api/users/{me}", json=change)
            assert refused.status_code == 409 and refused.json()["error"]["code"] == "last_admin"
    assert not code_file.exists()
    with fresh_server.client() as http:
        http.post("/api/auth/login", json={"username": "owner", "password": "owner password 1"})
        invited = http.post("/api/invitations", json={"username": "late"})
        token = invited.json()["url"].split("#", 1)[1]
        time.sleep(2.5)
        expired = http.post("/api/account-links/use", json={"token": token, "password": "too late password"})
        assert expired.status_code == 410 and expired.json()["error"]["code"] == "link_expired"
    assert _printed_code(fresh_server) not in "\n".join(
        line for line in fresh_server.log_text().splitlines() if " INFO " in line or " DEBUG " in line
    )


def test_a_request_through_a_proxy_or_from_the_network_needs_the_code(fresh_server: Server) -> None:
    code = _printed_code(fresh_server)
    body = {"username": "owner", "password": "owner password 1"}
    with fresh_server.client() as http:
        proxied = {"x-forwarded-for": "203.0.113.7"}
        assert http.get("/api/setup", headers=proxied).json() == {"open": True, "code_required": True}
        missing = http.post("/api/setup", json=body, headers=proxied)
        assert missing.status_code == 403 and missing.json()["error"]["code"] == "setup_code_required"
        wrong = http.post("/api/setup", json={**body, "setup_code": "AAAA-BBBB-CCCC"}, headers=proxied)
        assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "invalid_setup_code"
    address = _own_network_address()
    if address is not None:
        port = fresh_server.env["IMAGE_ASSISTANT_API_PORT"]
        with httpx.Client(base_url=f"http://{address}:{port}", timeout=30) as remote:
            assert remote.get("/api/setup").json()["code_required"] is True
            assert remote.post("/api/setup", json=body).status_code == 403
            made = remote.post("/api/setup", json={**body, "setup_code": code.lower()})
            assert made.status_code == 201, made.text
    else:
        with fresh_server.client() as http:
            made = http.post("/api/setup", json={**body, "setup_code": code}, headers=proxied)
            assert made.status_code == 201, made.text
