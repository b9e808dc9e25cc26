"""Defects of issue 13 found by an outside probe: each one through HTTP against a running server."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import statistics
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.helpers.records import body_and_sha, photo_record
from tests.helpers.server import Accounts, Server, start_server
from tests.helpers.thumbnails import put_original

SQL_BACKENDS = pytest.mark.parametrize("server", ["sqlite", "postgres"], indirect=True)
SQLITE = pytest.mark.parametrize("server", ["sqlite"], indirect=True)


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


@SQLITE
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


@SQLITE
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


@SQLITE
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


# 5. 500s from unchecked input


def album_of(device: Any, *photos_uuids: str, title: str = "Trip") -> str:
    album = {"photos_uuid": str(uuid.uuid4()).upper(), "title": title, "photos": list(photos_uuids)}
    answer = device.http.post("/api/sync/albums", json={"albums": [album], "complete": False})
    assert answer.status_code == 200, answer.text
    listed = device.owner.http.get("/api/albums").json()["albums"]
    return str(next(a["id"] for a in listed if a["title"] == title))


@SQL_BACKENDS
def test_numbers_and_dates_beyond_the_columns_are_refused_with_the_error_shape(
    server: Server, accounts: Accounts
) -> None:
    device = accounts.device()
    bad_records = [
        photo_record(file_size=2**63),
        photo_record(taken_at="0001-01-01T00:00:00+14:00"),
        photo_record(taken_at="9999-12-31T23:59:59-14:00"),
    ]
    for record in bad_records:
        answer = device.http.post("/api/sync/photos", json={"photos": [record]})
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["code"] == "validation_error"
        assert answer.headers.get("connection") != "close"
    album_id = album_of(device, title="Numbers")
    cursor = base64.urlsafe_b64encode(json.dumps({"p": 10**26}).encode()).decode().rstrip("=")
    answer = device.owner.http.get(f"/api/albums/{album_id}", params={"cursor": cursor})
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "invalid_cursor"
    assert device.http.get("/api/sync/status").json()["photos"] == 0


@SQL_BACKENDS
def test_a_nul_character_anywhere_is_a_clear_4xx(server: Server, accounts: Accounts) -> None:
    device = accounts.device()
    with server.client() as http:
        answers = [
            http.post("/api/auth/login", json={"username": "ad\x00min", "password": "x" * 12}),
            http.post("/api/devices/register", json=register_body("u\x00")),
            http.post("/api/devices/register", json=register_body(device.owner.username, name="M\x00c")),
            http.post("/api/devices/register", json=register_body(device.owner.username, "h\x00w")),
        ]
    answers.append(device.http.post("/api/sync/photos", json={"photos": [photo_record(timezone="E\x00")]}))
    album = {"photos_uuid": str(uuid.uuid4()).upper(), "title": "T\x00", "photos": []}
    answers.append(device.http.post("/api/sync/albums", json={"albums": [album], "complete": False}))
    for answer in answers:
        assert answer.status_code == 422, answer.text
        assert "NUL" in answer.text
    in_query = device.http.get("/api/sync/pending", params={"after": "A\x00"})
    assert in_query.status_code == 400 and in_query.json()["error"]["code"] == "invalid_character"
    assert "Traceback" not in server.log_text()


@SQLITE
def test_passwords_must_be_ten_characters_and_not_common(server: Server, accounts: Accounts) -> None:
    admin = server.client(accounts.admin_token())
    for weak in (" " * 8, "12345678", "1234567890", "Password123", "   short   "):
        answer = admin.post("/api/users", json={"username": f"w{uuid.uuid4().hex[:8]}", "password": weak})
        assert answer.status_code == 422, weak
        assert answer.json()["error"]["code"] == "weak_password"
    good = admin.post("/api/users", json={"username": f"g{uuid.uuid4().hex[:8]}", "password": "tall pine 7"})
    assert good.status_code == 201
    admin.close()
    cli = server.cli("users", "create", f"c{uuid.uuid4().hex[:8]}", input="qwertyuiop\n", check=False)
    assert cli.returncode != 0 and "Traceback" not in cli.stderr and "password" in cli.stderr


# 7. Logs


@SQLITE
def test_log_lines_cannot_be_forged_and_hold_no_nul(server: Server) -> None:
    marker = uuid.uuid4().hex
    with httpx.Client(base_url=server.url) as http:
        http.get(f"/api/{marker}%0a2026-01-01 00:00:00,000 INFO forged: GET /admin 200")
        http.get(f"/api/{marker}%00nul")
    time.sleep(0.5)
    raw = server.log_path.read_bytes() if server.log_path else b""
    assert b"\x00" not in raw
    lines = raw.decode(errors="replace").splitlines()
    assert not any(line.startswith("2026-01-01 00:00:00,000 INFO forged") for line in lines)
    assert any(marker in line and "\\x0a2026-01-01" in line for line in lines)


# 8. CSRF


@SQLITE
def test_cookie_requests_from_another_site_change_nothing(server: Server, accounts: Accounts) -> None:
    admin_token = accounts.admin_token()
    name = f"x{uuid.uuid4().hex[:10]}"
    body = json.dumps({"username": name, "password": "a long passphrase", "is_admin": True})
    with httpx.Client(base_url=server.url, cookies={"ia_session": admin_token}) as browser:
        foreign = {"origin": "https://evil.example"}
        as_text = browser.post("/api/users", content=body, headers={**foreign, "content-type": "text/plain"})
        as_json = browser.post(
            "/api/users", content=body, headers={**foreign, "content-type": "application/json"}
        )
        assert as_text.status_code in (403, 415) and as_json.status_code == 403
        assert as_json.json()["error"]["code"] == "cross_origin"
        plain_login = browser.post(
            "/api/auth/login",
            content=json.dumps({"username": "admin", "password": "admin-password-1"}),
            headers={**foreign, "content-type": "text/plain"},
        )
        assert plain_login.status_code in (403, 415) and "set-cookie" not in plain_login.headers
        listed = [u["username"] for u in browser.get("/api/users").json()["users"]]
        assert name not in listed
        own = browser.post(
            "/api/users", content=body, headers={"origin": server.url, "content-type": "application/json"}
        )
        assert own.status_code == 201
    with server.client(admin_token) as api_client:  # a bearer token is not a browser's ambient credential
        other = f"y{uuid.uuid4().hex[:10]}"
        answer = api_client.post(
            "/api/users", json={"username": other, "password": "a long passphrase"}, headers=foreign
        )
        assert answer.status_code == 201


# 6. A crash while replacing an original


def test_a_kill_between_the_new_object_and_its_commit_leaves_the_old_version_whole(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    server = start_server(
        tmp_path_factory.mktemp("crash"), "sqlite", {"IMAGE_ASSISTANT_TEST_PAUSE_BEFORE_COMMIT": "60"}
    )
    try:
        accounts = Accounts(server)
        device = accounts.device()
        record = photo_record(filename="IMG_0001.JPG")
        first, first_sha = body_and_sha(40_000, b"first")
        second, second_sha = body_and_sha(50_000, b"second")
        assert device.http.post("/api/sync/photos", json={"photos": [record]}).status_code == 200
        assert put_original(device.http, record, first).status_code == 200
        replacing = threading.Thread(target=lambda: _quietly(put_original, device.http, record, second))
        replacing.start()
        deadline = time.monotonic() + 30
        while "pausing" not in server.log_text():
            assert time.monotonic() < deadline, "the replacement never reached its commit"
            time.sleep(0.1)
        server.kill()  # SIGKILL: the new object is stored, the database still names the old one
        replacing.join()
        server.start()
        photo_id = device.owner.http.get("/api/photos").json()["photos"][0]["id"]
        url = device.owner.http.get(f"/api/photos/{photo_id}/download").json()["url"]
        assert httpx.get(server.url + url if url.startswith("/") else url).content == first
        pending = device.http.get("/api/sync/pending").json()
        assert pending.get("photos_uuids", []) == [] or record["photos_uuid"] not in str(pending)
        server.env["IMAGE_ASSISTANT_TEST_PAUSE_BEFORE_COMMIT"] = "0"
        server.stop()
        server.start()
        assert put_original(device.http, record, second).status_code == 200
        url = device.owner.http.get(f"/api/photos/{photo_id}/download").json()["url"]
        assert httpx.get(server.url + url if url.startswith("/") else url).content == second
        objects = [p for p in (server.data_dir / "objects" / "originals").rglob("*") if p.is_file()]
        assert [hashlib.sha256(p.read_bytes()).hexdigest() for p in objects].count(first_sha) == 0
        assert [hashlib.sha256(p.read_bytes()).hexdigest() for p in objects].count(second_sha) >= 1
        accounts.close()
    finally:
        server.stop()


def _quietly(call: Any, *args: Any) -> None:
    try:
        call(*args)
    except httpx.HTTPError:
        pass  # the server was killed under it


# 9. Leftovers


def test_temp_files_of_killed_writes_are_swept_at_start(tmp_path_factory: pytest.TempPathFactory) -> None:
    root = tmp_path_factory.mktemp("sweep")
    tmp_dir = root / "sqlite" / "objects" / ".tmp"
    tmp_dir.mkdir(parents=True)
    old, fresh = tmp_dir / "put-killed", tmp_dir / "put-running"
    old.write_bytes(b"x" * 1000)
    fresh.write_bytes(b"y" * 1000)
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    server = start_server(root, "sqlite", {})
    try:
        deadline = time.monotonic() + 30
        while old.exists():
            assert time.monotonic() < deadline, "the old temp file was never swept"
            time.sleep(0.2)
        assert fresh.exists()
    finally:
        server.stop()


# 10. Smaller


@SQL_BACKENDS
def test_the_same_photo_twice_in_one_album_is_422(server: Server, accounts: Accounts) -> None:
    device = accounts.device()
    record = photo_record()
    assert device.http.post("/api/sync/photos", json={"photos": [record]}).status_code == 200
    uid = record["photos_uuid"]
    album = {"photos_uuid": str(uuid.uuid4()).upper(), "title": "Twice", "photos": [uid, uid.lower()]}
    answer = device.http.post("/api/sync/albums", json={"albums": [album], "complete": False})
    assert answer.status_code == 422
    assert "more than once" in answer.text


@SQLITE
def test_a_second_patch_at_the_same_offset_is_409_and_files_are_private(
    server: Server, accounts: Accounts
) -> None:
    device = accounts.device()
    record = photo_record()
    assert device.http.post("/api/sync/photos", json={"photos": [record]}).status_code == 200
    data, sha = body_and_sha(300_000, b"patch")
    start = {"photos_uuid": record["photos_uuid"], "kind": "original", "size": len(data), "sha256": sha}
    upload_id = device.http.post("/api/sync/uploads", json=start).json()["upload_id"]
    path = f"/api/sync/uploads/{upload_id}"

    def slowly() -> Iterator[bytes]:
        yield data[:100_000]
        time.sleep(1.5)
        yield data[100_000:200_000]

    first: dict[str, httpx.Response] = {}
    sender = threading.Thread(
        target=lambda: first.update(
            answer=device.http.patch(path, content=slowly(), headers={"upload-offset": "0"})
        )
    )
    sender.start()
    time.sleep(0.7)
    second = device.http.patch(path, content=data[:200_000], headers={"upload-offset": "0"})
    sender.join()
    assert second.status_code == 409 and second.json()["error"]["code"] == "upload_busy"
    assert first["answer"].status_code == 200, first["answer"].text
    parts = list((server.data_dir / "uploads").glob("*.part"))
    assert parts and all(p.stat().st_mode & 0o777 == 0o600 for p in parts)
    rest = device.http.patch(path, content=data[200_000:], headers={"upload-offset": "200000"})
    assert rest.status_code == 200 and rest.json()["status"] == "stored"
    assert (server.data_dir / "image-assistant.db").stat().st_mode & 0o777 == 0o600
