"""Sign-in, sessions and device pairing, through the running server."""

from __future__ import annotations

import uuid

import httpx

from tests.helpers.server import Accounts, Server


def test_login_gives_an_httponly_lax_cookie_and_a_bearer_token(server: Server, accounts: Accounts) -> None:
    user = accounts.user()
    with server.client() as http:
        response = http.post("/api/auth/login", json={"username": user.username, "password": user.password})
        assert response.status_code == 200
        cookie = response.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie
        assert response.json()["token_type"] == "bearer"
        assert http.get("/api/auth/me").json()["username"] == user.username  # the cookie alone works


def test_wrong_password_and_unknown_user_get_the_same_answer(server: Server, accounts: Accounts) -> None:
    user = accounts.user()
    with server.client() as http:
        wrong = http.post("/api/auth/login", json={"username": user.username, "password": "nope-nope"})
        unknown = http.post("/api/auth/login", json={"username": "nobody-here", "password": "nope-nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"]["code"] == "invalid_credentials"


def test_logout_ends_the_session_token(server: Server, accounts: Accounts) -> None:
    user = accounts.user()
    assert user.http.post("/api/auth/logout").status_code == 200
    response = user.http.get("/api/photos")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "session_revoked"


def test_tampered_and_garbage_tokens_are_refused(server: Server, accounts: Accounts) -> None:
    user = accounts.user()
    head, body, signature = user.token.split(".")
    tampered = f"{head}.{body}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    for token in (tampered, "garbage", f"{head}.{body}."):
        with server.client(token) as http:
            response = http.get("/api/photos")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "token_invalid"


def test_a_token_signed_with_another_secret_is_refused(server: Server, accounts: Accounts) -> None:
    import jwt

    user = accounts.user()
    claims = jwt.decode(user.token, options={"verify_signature": False})
    forged = jwt.encode(claims, "x" * 48, algorithm="HS256")
    with server.client(forged) as http:
        assert http.get("/api/photos").status_code == 401


def test_an_expired_token_is_refused_as_expired(server: Server, accounts: Accounts) -> None:
    import jwt

    secret = (server.data_dir / "jwt_secret").read_text().strip()
    device = accounts.device()
    claims = jwt.decode(device.token, secret, algorithms=["HS256"], issuer="image-assistant")
    claims["exp"] = claims["iat"] - 10
    expired = jwt.encode(claims, secret, algorithm="HS256")
    with server.client(expired) as http:
        response = http.get("/api/sync/status")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_expired"


def test_jwt_secret_is_generated_and_kept_private(server: Server) -> None:
    secret = server.data_dir / "jwt_secret"
    assert len(secret.read_text().strip()) >= 32
    assert secret.stat().st_mode & 0o777 == 0o600


def test_register_never_returns_the_code_and_only_the_owner_sees_it(
    server: Server, accounts: Accounts
) -> None:
    owner, other = accounts.user(), accounts.user()
    device_id = accounts.register(owner)
    mine = owner.http.get("/api/devices").json()["devices"]
    pending = next(d for d in mine if d["id"] == device_id)
    assert pending["status"] == "pending"
    assert len(pending["verification_code"]) == 6 and pending["verification_code"].isdigit()
    assert pending["code_expires_at"]
    assert all(d["id"] != device_id for d in other.http.get("/api/devices").json()["devices"])


def test_verify_returns_a_token_that_syncs(server: Server, accounts: Accounts) -> None:
    device = accounts.device()
    status = device.http.get("/api/sync/status")
    assert status.status_code == 200
    assert status.json()["device"]["status"] == "active"


def test_register_for_an_unknown_user_does_not_reveal_it(server: Server, accounts: Accounts) -> None:
    with server.client() as http:
        response = http.post(
            "/api/devices/register",
            json={"username": "no-such-user", "name": "Mac", "hardware_id": "x"},
        )
        assert response.status_code == 201
        verify = http.post(
            "/api/devices/verify", json={"device_id": response.json()["device_id"], "code": "123456"}
        )
    assert verify.status_code == 400


def test_sixth_wrong_code_is_refused_even_when_right(server: Server, accounts: Accounts) -> None:
    owner = accounts.user()
    device_id = accounts.register(owner)
    code = accounts.code_for(owner, device_id)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    with server.client() as http:
        answers = [
            http.post("/api/devices/verify", json={"device_id": device_id, "code": wrong}) for _ in range(5)
        ]
        assert [a.status_code for a in answers] == [400] * 5
        sixth = http.post("/api/devices/verify", json={"device_id": device_id, "code": code})
    assert sixth.status_code == 400
    assert sixth.json() == answers[0].json()
    devices = owner.http.get("/api/devices").json()["devices"]
    assert next(d for d in devices if d["id"] == device_id)["verification_code"] is None


def test_re_registering_gives_a_fresh_code_after_a_burn(server: Server, accounts: Accounts) -> None:
    owner = accounts.user()
    hardware = uuid.uuid4().hex
    device_id = accounts.register(owner, hardware)
    with server.client() as http:
        for _ in range(5):
            http.post("/api/devices/verify", json={"device_id": device_id, "code": "000000"})
        assert accounts.register(owner, hardware) == device_id
        code = accounts.code_for(owner, device_id)
        response = http.post("/api/devices/verify", json={"device_id": device_id, "code": code})
    assert response.status_code == 200


def test_an_expired_code_is_refused(server: Server, accounts: Accounts) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import create_engine, update

    from image_assistant.config import Settings
    from image_assistant.db.models import Device as DeviceRow

    owner = accounts.user()
    device_id = accounts.register(owner)
    code = accounts.code_for(owner, device_id)
    url = Settings(**{k: v for k, v in server.env.items() if k.isupper()}).sqlalchemy_url
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            update(DeviceRow)
            .where(DeviceRow.id == uuid.UUID(device_id))
            .values(code_expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    engine.dispose()
    with server.client() as http:
        response = http.post("/api/devices/verify", json={"device_id": device_id, "code": code})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_code"


def test_revoking_a_device_stops_its_token_at_once(server: Server, accounts: Accounts) -> None:
    device = accounts.device()
    assert device.http.get("/api/sync/pending").status_code == 200
    response = device.owner.http.delete(f"/api/devices/{device.id}")
    assert response.status_code == 200 and response.json()["status"] == "revoked"
    refused = device.http.get("/api/sync/pending")
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "device_revoked"


def test_another_users_device_cannot_be_revoked_and_looks_absent(server: Server, accounts: Accounts) -> None:
    device = accounts.device()
    other = accounts.user()
    response = other.http.delete(f"/api/devices/{device.id}")
    assert response.status_code == 404
    assert device.http.get("/api/sync/pending").status_code == 200


def test_re_pairing_ends_the_old_token(server: Server, accounts: Accounts) -> None:
    owner = accounts.user()
    hardware = uuid.uuid4().hex
    device_id = accounts.register(owner, hardware)
    with server.client() as http:
        first = http.post(
            "/api/devices/verify", json={"device_id": device_id, "code": accounts.code_for(owner, device_id)}
        ).json()["token"]
        accounts.register(owner, hardware)
        second = http.post(
            "/api/devices/verify", json={"device_id": device_id, "code": accounts.code_for(owner, device_id)}
        ).json()["token"]
    assert (
        httpx.get(f"{server.url}/api/sync/pending", headers={"authorization": f"Bearer {first}"}).status_code
        == 401
    )
    assert (
        httpx.get(f"{server.url}/api/sync/pending", headers={"authorization": f"Bearer {second}"}).status_code
        == 200
    )


def test_a_device_token_cannot_browse_and_a_user_token_cannot_sync(
    server: Server, accounts: Accounts
) -> None:
    device = accounts.device()
    assert device.http.get("/api/photos").status_code == 403
    assert device.owner.http.get("/api/sync/pending").status_code == 403


def test_only_admins_manage_accounts(server: Server, accounts: Accounts) -> None:
    user = accounts.user()
    response = user.http.post("/api/users", json={"username": "sneaky", "password": "password-123"})
    assert response.status_code == 403
    assert user.http.get("/api/users").status_code == 403


def test_cli_devices_pending_shows_the_code_and_revoke_works(server: Server, accounts: Accounts) -> None:
    owner = accounts.user()
    device_id = accounts.register(owner)
    code = accounts.code_for(owner, device_id)
    listing = server.cli("devices", "pending", "--username", owner.username).stdout
    assert device_id in listing and code in listing
    device = accounts.device(owner)
    server.cli("devices", "revoke", device.id)
    assert device.http.get("/api/sync/pending").status_code == 401
    assert device.id in server.cli("devices", "list", "--username", owner.username).stdout
    bad = server.cli("devices", "revoke", "not-a-uuid", check=False)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr and "UUID" in bad.stderr
