"""Publish sets over HTTP: create, list, read, reorder, focal points, delete, and their errors."""

from __future__ import annotations

import uuid

from tests.helpers.publish import photo_ids
from tests.helpers.records import records_over_days
from tests.helpers.server import Accounts


def _library(accounts: Accounts, count: int = 5):
    device = accounts.device()
    records = records_over_days(count)
    assert device.http.post("/api/sync/photos", json={"photos": records}).status_code == 200
    return device, photo_ids(device, records)


def test_a_set_keeps_its_photos_in_the_order_given_and_can_be_reordered(accounts: Accounts) -> None:
    device, ids = _library(accounts)
    http = device.owner.http
    created = http.post(
        "/api/publish-sets", json={"title": "Shoot 2026-11-01", "photo_ids": [ids[3], ids[0], ids[4]]}
    )
    assert created.status_code == 201, created.text
    set_id = created.json()["id"]
    read = http.get(f"/api/publish-sets/{set_id}").json()
    assert [p["id"] for p in read["photos"]] == [ids[3], ids[0], ids[4]]
    assert [p["position"] for p in read["photos"]] == [0, 1, 2]
    assert read["photos"][0]["focal_point"] == {"x": 0.5, "y": 0.5}
    changed = http.put(
        f"/api/publish-sets/{set_id}",
        json={
            "title": "Picks",
            "note": "for the site",
            "photo_ids": [ids[4], ids[3], ids[1]],
            "focal_points": {ids[3]: {"x": 0.9, "y": 0.1}},
        },
    )
    assert changed.status_code == 200, changed.text
    body = http.get(f"/api/publish-sets/{set_id}").json()
    assert body["title"] == "Picks" and body["note"] == "for the site"
    assert [p["id"] for p in body["photos"]] == [ids[4], ids[3], ids[1]]
    assert body["photos"][1]["focal_point"] == {"x": 0.9, "y": 0.1}
    http.put(f"/api/publish-sets/{set_id}", json={"photo_ids": [ids[3], ids[4], ids[1]]})
    kept = http.get(f"/api/publish-sets/{set_id}").json()["photos"]
    assert kept[0]["focal_point"] == {"x": 0.9, "y": 0.1}  # a focal point follows its photo
    added = http.post(f"/api/publish-sets/{set_id}/photos", json={"photo_ids": [ids[1], ids[2]]})
    assert [p["id"] for p in added.json()["photos"]] == [ids[3], ids[4], ids[1], ids[2]]
    listed = http.get("/api/publish-sets").json()["publish_sets"]
    assert [(s["id"], s["photo_count"], s["cover_id"]) for s in listed] == [(set_id, 4, ids[3])]
    assert http.delete(f"/api/publish-sets/{set_id}").status_code == 204
    assert http.get(f"/api/publish-sets/{set_id}").status_code == 404
    assert http.get("/api/publish-sets").json()["publish_sets"] == []


def test_a_photo_can_be_in_several_sets(accounts: Accounts) -> None:
    device, ids = _library(accounts, 2)
    http = device.owner.http
    first = http.post("/api/publish-sets", json={"title": "A", "photo_ids": ids}).json()["id"]
    second = http.post("/api/publish-sets", json={"title": "B", "photo_ids": ids[::-1]}).json()["id"]
    assert [p["id"] for p in http.get(f"/api/publish-sets/{first}").json()["photos"]] == ids
    assert [p["id"] for p in http.get(f"/api/publish-sets/{second}").json()["photos"]] == ids[::-1]


def test_someone_elses_set_and_photos_are_not_found(accounts: Accounts) -> None:
    device, ids = _library(accounts, 2)
    owner = device.owner.http
    set_id = owner.post("/api/publish-sets", json={"title": "Mine", "photo_ids": ids}).json()["id"]
    stranger = accounts.user().http
    for response in (
        stranger.get(f"/api/publish-sets/{set_id}"),
        stranger.put(f"/api/publish-sets/{set_id}", json={"title": "x"}),
        stranger.delete(f"/api/publish-sets/{set_id}"),
        stranger.post(f"/api/publish-sets/{set_id}/photos", json={"photo_ids": []}),
        stranger.get(f"/api/publish-sets/{set_id}/download", params={"preset": "web-2048"}),
    ):
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "publish_set_not_found"
    taken = stranger.post("/api/publish-sets", json={"title": "Theirs", "photo_ids": [ids[0]]})
    assert taken.status_code == 404 and taken.json()["error"]["code"] == "photo_not_found"
    assert stranger.get("/api/publish-sets").json()["publish_sets"] == []
    assert owner.get(f"/api/publish-sets/{set_id}").json()["title"] == "Mine"


def test_bad_bodies_are_refused_and_change_nothing(accounts: Accounts) -> None:
    device, ids = _library(accounts, 2)
    http = device.owner.http
    set_id = http.post("/api/publish-sets", json={"title": "Keep", "photo_ids": ids}).json()["id"]
    cases = [
        ("post", "/api/publish-sets", {"title": "", "photo_ids": []}, 422),
        ("post", "/api/publish-sets", {"title": "x", "photo_ids": ["nope"]}, 422),
        ("post", "/api/publish-sets", {"title": "x", "photo_ids": [ids[0], ids[0]]}, 422),
        ("put", f"/api/publish-sets/{set_id}", {"photo_ids": [ids[0], str(uuid.uuid4())]}, 404),
        ("put", f"/api/publish-sets/{set_id}", {"focal_points": {ids[0]: {"x": 2, "y": 0}}}, 422),
        ("put", f"/api/publish-sets/{set_id}", {"focal_points": {str(uuid.uuid4()): {"x": 0, "y": 0}}}, 422),
        ("put", f"/api/publish-sets/{set_id}", {"colour": "red"}, 422),
    ]
    for method, path, body, expected in cases:
        response = getattr(http, method)(path, json=body)
        assert response.status_code == expected, (body, response.text)
        assert set(response.json()) == {"error"}
    assert http.get("/api/publish-sets/not-a-uuid").status_code == 400
    unknown = http.get(f"/api/publish-sets/{set_id}/download", params={"preset": "billboard"})
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "unknown_preset"
    body = http.get(f"/api/publish-sets/{set_id}").json()
    assert body["title"] == "Keep" and [p["id"] for p in body["photos"]] == ids
    assert http.get("/api/publish-sets", headers={"authorization": ""}).status_code in (200, 401)


def test_users_define_presets_of_their_own(accounts: Accounts) -> None:
    user = accounts.user()
    http = user.http
    names = [p["name"] for p in http.get("/api/presets").json()["presets"]]
    assert names == ["web-2048", "square-1080", "portrait-1080x1350", "story-1080x1920", "original-clean"]
    made = http.post(
        "/api/presets",
        json={
            "name": "shop-800",
            "mode": "crop",
            "width": 800,
            "height": 1000,
            "quality": 80,
            "filename_pattern": "{set}-{date}-{n}",
        },
    )
    assert made.status_code == 201, made.text
    assert (
        http.post("/api/presets", json={"name": "shop-800", "mode": "fit", "width": 900}).status_code == 409
    )
    assert (
        http.post("/api/presets", json={"name": "web-2048", "mode": "fit", "width": 900}).status_code == 409
    )
    for bad in (
        {"name": "x", "mode": "stretch", "width": 900},
        {"name": "x", "mode": "crop", "width": 900},
        {"name": "x", "mode": "fit", "width": 900, "quality": 0},
        {"name": "x", "mode": "fit", "width": 900, "filename_pattern": "{set}-{secret}"},
        {"name": "Bad Name", "mode": "fit", "width": 900},
    ):
        assert http.post("/api/presets", json=bad).status_code == 422, bad
    assert [p["name"] for p in http.get("/api/presets").json()["presets"]][-1] == "shop-800"
    other = accounts.user().http
    assert "shop-800" not in [p["name"] for p in other.get("/api/presets").json()["presets"]]
    assert other.delete("/api/presets/shop-800").status_code == 404
    assert http.delete("/api/presets/shop-800").status_code == 204
