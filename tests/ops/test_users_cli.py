"""Accounts from the command line, as an operator runs them: passwd, disable, enable, invite."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.helpers.server import Server, base_env


def test_passwd_disable_enable_and_invite(tmp_path: Path) -> None:
    data_dir = tmp_path / "cli"
    server = Server(url="", env=base_env(data_dir), data_dir=data_dir, backend="sqlite")
    server.cli("users", "create", "ann", input="first password 1\n")
    server.start()
    try:

        def login(password: str) -> httpx.Response:
            with server.client() as http:
                return http.post("/api/auth/login", json={"username": "ann", "password": password})

        token = login("first password 1").json()["token"]
        assert (
            "password of ann changed"
            in server.cli("users", "passwd", "ann", input="second password 2\n").stdout
        )
        assert login("first password 1").status_code == 401 and login("second password 2").status_code == 200
        with server.client(token) as http:
            assert http.get("/api/auth/me").status_code == 401  # signed out by the change

        server.cli("users", "disable", "ann")
        assert login("second password 2").json()["error"]["code"] == "account_disabled"
        server.cli("users", "enable", "ann")
        assert login("second password 2").status_code == 200

        weak = server.cli("users", "passwd", "ann", input="short\n", check=False)
        assert weak.returncode != 0 and len(weak.stderr.strip().splitlines()) == 1
        unknown = server.cli("users", "disable", "nobody", check=False)
        assert unknown.returncode != 0 and "nobody" in unknown.stderr

        invited = server.cli("users", "invite", "ben", "--url", "https://photos.example.org").stdout
        link = invited.strip().splitlines()[-1]
        assert link.startswith("https://photos.example.org/welcome#")
        with server.client() as http:
            token_part = link.split("#", 1)[1]
            used = http.post(
                "/api/account-links/use", json={"token": token_part, "password": "ben password 12"}
            )
            assert used.status_code == 200 and used.json()["user"]["username"] == "ben"
    finally:
        server.stop()
