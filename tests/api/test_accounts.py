"""Accounts in the browser's API: people (admins), your own account, one-time links."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx
import pytest

from tests.helpers.server import Accounts, Server, User


@pytest.fixture(autouse=True)
def _database_backends_only(server: Server) -> Iterator[None]:
    if server.backend == "s3":
        pytest.skip("accounts do not touch the object store: SQLite and PostgreSQL only")
    yield


def _admin(server: Server, accounts: Accounts) -> httpx.Client:
    client = server.client(accounts.admin_token())
    accounts.clients.append(client)
    return client


def _account(admin: httpx.Client, user: User) -> dict[str, object]:
    listed = admin.get("/api/users").json()["users"]
    found: dict[str, object] = next(u for u in listed if u["username"] == user.username)
    return found


def test_admins_list_accounts_with_photos_bytes_and_last_sign_in(server: Server, accounts: Accounts) -> None:
    device = accounts.device()
    sent = device.http.post(
        "/api/sync/photos",
        json={"photos": [{"photos_uuid": "A1B2C3D4-0000-0000-0000-000000000001", "filename": "IMG_1.JPG"}]},
    )
    assert sent.status_code == 200, sent.text
    admin = _admin(server, accounts)
    row = _account(admin, device.owner)
    assert row["photo_count"] == 1 and row["bytes_stored"] == 0
    assert row["last_sign_in_at"] is not None and row["disabled"] is False and row["invited"] is False
    # Not for people who are not admins.
    refused = device.owner.http.get("/api/users")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "admin_required"


def test_disabling_stops_sessions_and_devices_at_once_and_keeps_photos(
    server: Server, accounts: Accounts
) -> None:
    device = accounts.device()
    owner = device.owner
    device.http.post(
        "/api/sync/photos",
        json={"photos": [{"photos_uuid": "D15AB1ED-0000-0000-0000-000000000001", "filename": "IMG_2.JPG"}]},
    )
    admin = _admin(server, accounts)
    user_id = _account(admin, owner)["id"]
    changed = admin.patch(f"/api/users/{user_id}", json={"disabled": True})
    assert changed.status_code == 200 and changed.json()["disabled"] is True

    session = owner.http.get("/api/photos")
    assert session.status_code == 401
    assert device.http.get("/api/sync/status").status_code == 401
    with server.client() as http:
        again = http.post("/api/auth/login", json={"username": owner.username, "password": owner.password})
    assert again.status_code == 403 and again.json()["error"]["code"] == "account_disabled"

    enabled = admin.patch(f"/api/users/{user_id}", json={"disabled": False})
    assert enabled.status_code == 200 and enabled.json()["photo_count"] == 1  # photos intact
    token = accounts.login(owner.username, owner.password)
    with server.client(token) as http:
        assert len(http.get("/api/photos").json()["photos"]) == 1
    assert device.http.get("/api/sync/status").status_code == 200  # the device was not revoked


def test_admin_flag_and_bad_changes(server: Server, accounts: Accounts) -> None:
    admin = _admin(server, accounts)
    person = accounts.user()
    user_id = _account(admin, person)["id"]
    assert admin.patch(f"/api/users/{user_id}", json={"is_admin": True}).json()["is_admin"] is True
    assert person.http.get("/api/users").status_code == 200
    assert admin.patch(f"/api/users/{user_id}", json={"is_admin": False}).json()["is_admin"] is False
    for body, status in (({}, 422), ({"disabled": "yes"}, 422)):
        answer = admin.patch(f"/api/users/{user_id}", json=body)
        assert answer.status_code == status and "error" in answer.json()
    assert admin.patch("/api/users/not-a-uuid", json={"disabled": True}).status_code == 400
    unknown = admin.patch("/api/users/00000000-0000-4000-8000-000000000000", json={"disabled": True})
    assert unknown.status_code == 404


def test_an_invitation_works_once_then_answers_410(server: Server, accounts: Accounts) -> None:
    admin = _admin(server, accounts)
    name = f"inv{secrets.token_hex(5)}"
    invited = admin.post("/api/invitations", json={"username": name})
    assert invited.status_code == 201, invited.text
    url = invited.json()["url"]
    assert "/welcome#" in url
    token = url.split("#", 1)[1]
    assert _account(admin, User(name, "", "", admin))["invited"] is True
    with server.client() as http:
        # Before the link is used, the account cannot sign in at all.
        assert http.post("/api/auth/login", json={"username": name, "password": "!"}).status_code == 401
        checked = http.post("/api/account-links/check", json={"token": token})
        assert checked.json() == {**checked.json(), "username": name, "purpose": "invitation"}
        weak = http.post("/api/account-links/use", json={"token": token, "password": "short"})
        assert weak.status_code == 422
        used = http.post("/api/account-links/use", json={"token": token, "password": "a long new password"})
        assert used.status_code == 200 and used.json()["user"]["username"] == name
        assert http.get("/api/auth/me").json()["username"] == name  # signed in by the link
        again = http.post("/api/account-links/use", json={"token": token, "password": "another password!"})
        assert again.status_code == 410 and again.json()["error"]["code"] == "link_used"
        unknown = http.post("/api/account-links/check", json={"token": "x" * 43})
        assert unknown.status_code == 404
    accounts.login(name, "a long new password")


def test_a_reset_link_replaces_the_password_and_ends_sessions(server: Server, accounts: Accounts) -> None:
    admin = _admin(server, accounts)
    person = accounts.user()
    user_id = _account(admin, person)["id"]
    first = admin.post(f"/api/users/{user_id}/reset-link").json()["url"].split("#", 1)[1]
    second = admin.post(f"/api/users/{user_id}/reset-link").json()["url"].split("#", 1)[1]
    with server.client() as http:
        older = http.post("/api/account-links/check", json={"token": first})
        assert older.status_code == 410 and older.json()["error"]["code"] == "link_expired"
        assert http.post(
            "/api/account-links/use", json={"token": second, "password": "reset password 1"}
        ).is_success
    assert person.http.get("/api/photos").status_code == 401  # the old session is over
    accounts.login(person.username, "reset password 1")


def test_change_password_keeps_this_session_and_ends_the_others(server: Server, accounts: Accounts) -> None:
    person = accounts.user()
    other_token = accounts.login(person.username, person.password)
    wrong = person.http.post(
        "/api/auth/password", json={"current_password": "not it at all", "new_password": "brand new password"}
    )
    assert wrong.status_code == 401
    weak = person.http.post(
        "/api/auth/password", json={"current_password": person.password, "new_password": "short"}
    )
    assert weak.status_code == 422 and weak.json()["error"]["code"] == "weak_password"
    changed = person.http.post(
        "/api/auth/password", json={"current_password": person.password, "new_password": "brand new password"}
    )
    assert changed.status_code == 200
    assert person.http.get("/api/photos").status_code == 200
    with server.client(other_token) as http:
        assert http.get("/api/photos").status_code == 401
    accounts.login(person.username, "brand new password")


def test_sessions_are_listed_and_signed_out_one_or_all(server: Server, accounts: Accounts) -> None:
    person = accounts.user()
    with server.client() as http:
        http.headers["user-agent"] = (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/18.1 Safari/605.1.15"
        )
        second = http.post("/api/auth/login", json={"username": person.username, "password": person.password})
        second_id_token = second.json()["token"]
    third_token = accounts.login(person.username, person.password)
    listed = person.http.get("/api/auth/sessions").json()["sessions"]
    assert len(listed) == 3
    assert sum(1 for s in listed if s["current"]) == 1
    assert any(s["client"] == "Safari 18 on Mac OS X" for s in listed), listed
    assert all(s["address"] == "127.0.0.1" for s in listed)
    safari = next(s for s in listed if s["client"].startswith("Safari"))
    assert person.http.delete(f"/api/auth/sessions/{safari['id']}").status_code == 200
    with server.client(second_id_token) as http:
        assert http.get("/api/photos").status_code == 401
    # Someone else's session is not found, and all others go at once.
    stranger = accounts.user()
    assert stranger.http.delete(f"/api/auth/sessions/{listed[0]['id']}").status_code == 404
    assert person.http.delete("/api/auth/sessions").json() == {"signed_out": 1}
    with server.client(third_token) as http:
        assert http.get("/api/photos").status_code == 401
    assert person.http.get("/api/photos").status_code == 200
