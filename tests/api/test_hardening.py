"""Defects of issue 13 found by an outside probe: each one through HTTP against a running server."""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.helpers.server import Accounts, Server, start_server

SQL_BACKENDS = pytest.mark.parametrize("server", ["sqlite", "postgres"], indirect=True)


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server with the default per-client limits (the shared ones are relaxed for the suite)."""
    server = start_server(
        tmp_path_factory.mktemp("strict"),
        "sqlite",
        {"PAIRING_CLIENT_RATE": "20/10m", "LOGIN_CLIENT_FAILURES": "6"},
    )
    yield server
    server.stop()


def from_address(server: Server, address: str | None = None) -> httpx.Client:
    """A client seen from its own address (the server trusts X-Forwarded-For from 127.0.0.1)."""
    address = address or f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    return httpx.Client(base_url=server.url, headers={"x-forwarded-for": address}, timeout=60)


def register_body(username: str, hardware_id: str | None = None, **facts: str) -> dict[str, Any]:
    return {
        "username": username,
        "name": facts.get("name", "Mac"),
        "hardware_id": hardware_id or uuid.uuid4().hex,
        "platform": facts.get("platform", "macOS"),
        "os_version": "14.5",
    }


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


# 1. Pairing codes can be brute-forced


@SQL_BACKENDS
def test_wrong_codes_are_counted_per_account_and_re_registering_never_resets_them(
    server: Server, accounts: Accounts
) -> None:
    owner = accounts.user()
    hardware = uuid.uuid4().hex
    with from_address(server) as http:
        for _ in range(2):  # two codes, five wrong tries each: each code burns, the count stays
            device_id = http.post("/api/devices/register", json=register_body(owner.username, hardware))
            device_id = device_id.json()["device_id"]
            code = accounts.code_for(owner, device_id)
            for _ in range(5):
                answer = http.post("/api/devices/verify", json={"device_id": device_id, "code": wrong(code)})
                assert answer.status_code == 400
        http.post("/api/devices/register", json=register_body(owner.username, hardware))
        code = accounts.code_for(owner, device_id)
    with from_address(server) as elsewhere:  # another client: the count is the account's
        locked = elsewhere.post("/api/devices/verify", json={"device_id": device_id, "code": code})
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "pairing_locked"
    assert 3000 < int(locked.headers["retry-after"]) <= 3601
    listing = owner.http.get("/api/devices").json()
    assert listing["pairing_locked_until"] is not None
    assert next(d for d in listing["devices"] if d["id"] == device_id)["status"] == "pending"
    assert accounts.user().http.get("/api/devices").json()["pairing_locked_until"] is None


def test_an_account_keeps_only_a_few_pairing_requests_and_drops_the_oldest(
    server: Server, accounts: Accounts
) -> None:
    owner = accounts.user()
    ids = [accounts.register(owner) for _ in range(5)]
    waiting = [d["id"] for d in owner.http.get("/api/devices").json()["devices"] if d["status"] == "pending"]
    assert sorted(waiting) == sorted(ids[2:])


def test_pairing_routes_are_rate_limited_per_client(strict_server: Server) -> None:
    with from_address(strict_server) as http, from_address(strict_server) as other:
        answers = [http.post("/api/devices/register", json=register_body("nobody")) for _ in range(21)]
        assert [a.status_code for a in answers[:20]] == [201] * 20
        assert answers[20].status_code == 429
        assert answers[20].json()["error"]["code"] == "rate_limited"
        assert int(answers[20].headers["retry-after"]) > 0
        assert other.post("/api/devices/register", json=register_body("nobody")).status_code == 201
        probe = {"device_id": str(uuid.uuid4()), "code": "123456"}
        verdicts = [http.post("/api/devices/verify", json=probe).status_code for _ in range(21)]
        assert verdicts == [400] * 20 + [429]


# 2. Register can tamper with a paired device


@SQL_BACKENDS
def test_registering_an_active_devices_hardware_id_changes_nothing_until_its_code_is_verified(
    server: Server, accounts: Accounts
) -> None:
    device = accounts.device()
    owner = device.owner
    before = next(d for d in owner.http.get("/api/devices").json()["devices"] if d["id"] == device.id)
    with server.client() as http:
        again = http.post(
            "/api/devices/register",
            json=register_body(owner.username, before["hardware_id"], name="Evil", platform="Plan9"),
        )
        assert again.status_code == 201 and again.json()["device_id"] == device.id
        now = next(d for d in owner.http.get("/api/devices").json()["devices"] if d["id"] == device.id)
        assert (now["status"], now["name"], now["platform"]) == ("active", before["name"], "macOS")
        assert device.http.get("/api/sync/pending").status_code == 200
        code = accounts.code_for(owner, device.id)
        verified = http.post("/api/devices/verify", json={"device_id": device.id, "code": code})
    assert verified.status_code == 200
    assert verified.json()["device"]["name"] == "Evil"
    assert device.http.get("/api/sync/pending").status_code == 401


# 3. Enumeration


def timed(call: Any) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    answer = call()
    return answer, time.perf_counter() - started


def test_pairing_answers_the_same_for_unknown_and_real_accounts(server: Server, accounts: Accounts) -> None:
    owner = accounts.user()
    with server.client() as http:
        real_times, fake_times = [], []
        for _ in range(5):
            real, seconds = timed(
                lambda: http.post("/api/devices/register", json=register_body(owner.username))
            )
            real_times.append(seconds)
            fake, seconds = timed(
                lambda: http.post("/api/devices/register", json=register_body("no-one-here"))
            )
            fake_times.append(seconds)
            assert real.status_code == fake.status_code == 201
            assert real.json().keys() == fake.json().keys()
        assert abs(statistics.median(real_times) - statistics.median(fake_times)) < 0.03
        code = accounts.code_for(owner, real.json()["device_id"])
        known = http.post(
            "/api/devices/verify", json={"device_id": real.json()["device_id"], "code": wrong(code)}
        )
        unknown = http.post("/api/devices/verify", json={"device_id": fake.json()["device_id"], "code": code})
    assert known.status_code == unknown.status_code == 400
    assert known.json() == unknown.json()


# 4. Login has no throttling


def test_wrong_passwords_back_off_for_that_client_but_never_lock_the_owner_out(
    server: Server, accounts: Accounts
) -> None:
    user = accounts.user()
    attempt = {"username": user.username, "password": "not-the-password"}
    with from_address(server) as stranger, from_address(server) as owner:
        tries = [stranger.post("/api/auth/login", json=attempt).status_code for _ in range(5)]
        assert tries == [401] * 5
        refused = stranger.post("/api/auth/login", json={**attempt, "password": user.password})
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "too_many_attempts"
        assert int(refused.headers["retry-after"]) >= 1
        welcome = owner.post("/api/auth/login", json={**attempt, "password": user.password})
    assert welcome.status_code == 200


def test_one_client_failing_on_many_accounts_is_slowed_down(strict_server: Server) -> None:
    with from_address(strict_server) as http:
        tries = [
            http.post("/api/auth/login", json={"username": f"user{n}", "password": "wrong-password"})
            for n in range(7)
        ]
    assert [t.status_code for t in tries] == [401] * 6 + [429]
    assert "retry-after" in tries[6].headers
