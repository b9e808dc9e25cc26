"""Share links over HTTP: anonymous viewers see one set (or a live album) in its preset and
nothing else; passwords, downloads, expiry, revocation, view counts, rate limits, clean logs."""

from __future__ import annotations

import time
import uuid

import httpx
import pyvips

from tests.helpers.publish import jpeg, photo_ids, send_photo, unzip
from tests.helpers.server import Accounts


def _shared_set(accounts: Accounts, count: int = 2):
    device = accounts.device()
    records = [send_photo(device, jpeg(2600, 1800, colour=(40, 90 + i * 40, 200))) for i in range(count)]
    ids = photo_ids(device, records)
    set_id = device.owner.http.post("/api/publish-sets", json={"title": "Beach", "photo_ids": ids}).json()[
        "id"
    ]
    return device, ids, set_id


def _own_address() -> dict[str, str]:
    """A viewer of its own (uvicorn trusts X-Forwarded-For from 127.0.0.1): other tests' failed
    lookups from 127.0.0.1 (the OpenAPI fuzzing) must not spend this viewer's rate limit."""
    return {"x-forwarded-for": f"198.18.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"}


def test_an_anonymous_viewer_sees_the_set_in_its_preset_and_nothing_else(accounts: Accounts) -> None:
    device, ids, set_id = _shared_set(accounts)
    owner = device.owner.http
    made = owner.post(
        f"/api/publish-sets/{set_id}/shares",
        json={"expires_in": 3600, "preset": "square-1080", "allow_download": True},
    )
    assert made.status_code == 201, made.text
    token, url = made.json()["token"], made.json()["url"]
    assert len(token) >= 43 and url.endswith(f"/s/{token}")
    server = accounts.server
    with httpx.Client(base_url=server.url, timeout=60, headers=_own_address()) as anonymous:
        page = anonymous.get(f"/api/shares/{token}")
        assert page.status_code == 200, page.text
        body = page.json()
        assert body["title"] == "Beach" and body["allow_download"] is True
        assert [p["id"] for p in body["photos"]] == ids
        assert [p["name"] for p in body["photos"]] == ["beach-01.jpg", "beach-02.jpg"]
        photo = anonymous.get(f"/api/shares/{token}/photos/{ids[1]}")
        assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
        image = pyvips.Image.new_from_buffer(photo.content, "")
        assert (image.width, image.height) == (1080, 1080)
        files = unzip(anonymous.get(f"/api/shares/{token}/download").content)
        assert sorted(files) == ["beach-01.jpg", "beach-02.jpg"]
        # The token opens this share only: no other photo, no owner API, no original.
        other = send_photo(device, jpeg(1200, 900))
        other_id = photo_ids(device, [other])[0]
        assert anonymous.get(f"/api/shares/{token}/photos/{other_id}").status_code == 404
        as_bearer = {"authorization": f"Bearer {token}"}
        for path in (
            "/api/publish-sets",
            f"/api/publish-sets/{set_id}",
            "/api/photos",
            f"/api/photos/{ids[0]}/download",
        ):
            assert anonymous.get(path, headers=as_bearer).status_code == 401, path
        assert anonymous.delete(f"/api/shares/{token}").status_code == 401
        assert anonymous.get(f"/api/shares/{token[:-2]}xx").status_code == 404
        listed = owner.get(f"/api/publish-sets/{set_id}/shares").json()["shares"]
        assert [(s["id"], s["view_count"], s["state"]) for s in listed] == [(made.json()["id"], 1, "active")]
        assert "token" not in listed[0] and listed[0]["expires_at"]
        stranger = accounts.user().http
        assert stranger.delete(f"/api/shares/{token}").status_code == 404
        assert stranger.post(f"/api/publish-sets/{set_id}/shares", json={"expires_in": 60}).status_code == 404
        assert stranger.get("/api/shares").json()["shares"] == []
        assert owner.delete(f"/api/shares/{made.json()['id']}").status_code == 204
        for path in ("", "/download", f"/photos/{ids[0]}"):
            gone = anonymous.get(f"/api/shares/{token}{path}")
            assert gone.status_code == 410 and gone.json()["error"]["code"] == "share_gone", path
    assert owner.get("/api/shares").json()["shares"][0]["state"] == "revoked"
    assert token not in server.log_text()


def test_passwords_downloads_and_expiry(accounts: Accounts) -> None:
    device, ids, set_id = _shared_set(accounts, 1)
    owner = device.owner.http
    bad = owner.post(f"/api/publish-sets/{set_id}/shares", json={"expires_in": 60, "preset": "poster"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "unknown_preset"
    locked = owner.post(
        f"/api/publish-sets/{set_id}/shares", json={"expires_in": 3600, "password": "sesame-42"}
    ).json()["token"]
    with httpx.Client(base_url=accounts.server.url, timeout=60, headers=_own_address()) as anonymous:
        assert anonymous.get(f"/api/shares/{locked}").json()["error"]["code"] == "share_password_required"
        wrong = anonymous.get(f"/api/shares/{locked}", headers={"x-share-password": "nope"})
        assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "share_password_wrong"
        assert (
            anonymous.get(f"/api/shares/{locked}", headers={"x-share-password": "sesame-42"}).status_code
            == 200
        )
        assert anonymous.post(f"/api/shares/{locked}/unlock", json={"password": "nope"}).status_code == 401
        assert (
            anonymous.post(f"/api/shares/{locked}/unlock", json={"password": "sesame-42"}).status_code == 204
        )
        picture = anonymous.get(f"/api/shares/{locked}/photos/{ids[0]}")  # the unlock's cookie
        assert picture.status_code == 200
        assert pyvips.Image.new_from_buffer(picture.content, "").width == 2048
        refused = anonymous.get(f"/api/shares/{locked}/download")
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "download_not_allowed"
        assert (
            anonymous.get(f"/api/shares/{locked}/photos/{ids[0]}", params={"download": "true"}).status_code
            == 403
        )
    with httpx.Client(base_url=accounts.server.url, timeout=60, headers=_own_address()) as fresh:
        assert fresh.get(f"/api/shares/{locked}/photos/{ids[0]}").status_code == 401  # no cookie, no picture
        brief = owner.post(f"/api/publish-sets/{set_id}/shares", json={"expires_in": 1}).json()["token"]
        time.sleep(1.5)
        assert fresh.get(f"/api/shares/{brief}").status_code == 410


def test_guessing_tokens_is_rate_limited_per_address(accounts: Accounts) -> None:
    guesser = {"x-forwarded-for": f"203.0.113.{uuid.uuid4().int % 250 + 1}"}
    with httpx.Client(base_url=accounts.server.url, timeout=60) as anonymous:
        answers = [anonymous.get(f"/api/shares/guess{i}", headers=guesser).status_code for i in range(22)]
        assert answers[:20] == [404] * 20 and answers[20:] == [429, 429]
        assert (
            anonymous.get("/api/shares/guess", headers={"x-forwarded-for": "198.51.100.9"}).status_code == 404
        )


def test_an_album_share_follows_the_album(accounts: Accounts) -> None:
    device = accounts.device()
    records = [send_photo(device, jpeg(1400, 1000)) for _ in range(3)]
    album = {
        "photos_uuid": str(uuid.uuid4()),
        "title": "Trip",
        "photos": [r["photos_uuid"] for r in records[:2]],
    }
    device.http.post("/api/sync/albums", json={"albums": [album]})
    album_id = device.owner.http.get("/api/albums").json()["albums"][0]["id"]
    stranger = accounts.user().http
    assert stranger.post(f"/api/albums/{album_id}/shares", json={"expires_in": 600}).status_code == 404
    token = device.owner.http.post(f"/api/albums/{album_id}/shares", json={"expires_in": 600}).json()["token"]
    ids = photo_ids(device, records)
    with httpx.Client(base_url=accounts.server.url, timeout=60, headers=_own_address()) as anonymous:
        assert [p["id"] for p in anonymous.get(f"/api/shares/{token}").json()["photos"]] == ids[:2]
        album["photos"] = [records[2]["photos_uuid"], records[0]["photos_uuid"]]
        device.http.post("/api/sync/albums", json={"albums": [album]})
        assert [p["id"] for p in anonymous.get(f"/api/shares/{token}").json()["photos"]] == [ids[2], ids[0]]
        assert anonymous.get(f"/api/shares/{token}/photos/{ids[1]}").status_code == 404


def test_an_album_lists_its_own_links_to_its_owner_only(accounts: Accounts) -> None:
    device = accounts.device()
    record = send_photo(device, jpeg(800, 600))
    albums = [
        {"photos_uuid": str(uuid.uuid4()), "title": title, "photos": [record["photos_uuid"]]}
        for title in ("Kept", "Other")
    ]
    device.http.post("/api/sync/albums", json={"albums": albums})
    owner = device.owner.http
    ids = {a["title"]: a["id"] for a in owner.get("/api/albums").json()["albums"]}
    assert owner.get(f"/api/albums/{ids['Kept']}/shares").json() == {"shares": []}
    made = owner.post(f"/api/albums/{ids['Kept']}/shares", json={"expires_in": 7200, "preset": "square-1080"})
    owner.post(f"/api/albums/{ids['Other']}/shares", json={"expires_in": 600})
    with httpx.Client(base_url=accounts.server.url, timeout=60, headers=_own_address()) as anonymous:
        anonymous.get(f"/api/shares/{made.json()['token']}")
    listed = owner.get(f"/api/albums/{ids['Kept']}/shares").json()["shares"]
    assert [(s["id"], s["kind"], s["preset"], s["view_count"], s["state"]) for s in listed] == [
        (made.json()["id"], "album", "square-1080", 1, "active")
    ]
    assert listed[0]["expires_at"] == made.json()["expires_at"]
    assert accounts.user().http.get(f"/api/albums/{ids['Kept']}/shares").status_code == 404
    assert owner.get("/api/albums/not-a-uuid/shares").status_code == 400
    assert owner.delete(f"/api/shares/{made.json()['id']}").status_code == 204
    assert owner.get(f"/api/albums/{ids['Kept']}/shares").json()["shares"][0]["state"] == "revoked"
