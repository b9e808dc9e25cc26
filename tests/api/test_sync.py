"""Sync endpoints: dedup, uploads, albums, status and sync logs, through the running server."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.helpers.records import body_and_sha, photo_record, records_over_days
from tests.helpers.server import Accounts, Server


def test_the_same_record_twice_is_unchanged_and_a_change_is_updated(accounts: Accounts) -> None:
    device = accounts.device()
    record = photo_record()
    first = device.http.post("/api/sync/photos", json={"photos": [record]}).json()
    again = device.http.post("/api/sync/photos", json={"photos": [record]}).json()
    changed = device.http.post("/api/sync/photos", json={"photos": [{**record, "is_favorite": True}]}).json()
    assert first["results"][0]["status"] == "created"
    assert again["results"][0]["status"] == "unchanged"
    assert changed["results"][0]["status"] == "updated"
    assert first["results"][0]["id"] == again["results"][0]["id"] == changed["results"][0]["id"]
    photos = device.owner.http.get("/api/photos").json()["photos"]
    assert len(photos) == 1 and photos[0]["is_favorite"] is True


def test_a_batch_of_one_hundred_is_taken(accounts: Accounts) -> None:
    device = accounts.device()
    response = device.http.post("/api/sync/photos", json={"photos": records_over_days(100)})
    assert response.status_code == 200
    assert response.json()["created"] == 100
    assert device.http.get("/api/sync/status").json()["photos"] == 100


def test_upload_is_verified_stored_once_and_listed_no_more_as_pending(accounts: Accounts) -> None:
    device = accounts.device()
    record = photo_record()
    uid = record["photos_uuid"]
    device.http.post("/api/sync/photos", json={"photos": [record]})
    assert device.http.get("/api/sync/pending").json()["photos_uuids"] == [uid]
    body, sha = body_and_sha()
    stored = device.http.put(
        f"/api/sync/photos/{uid}/original", content=body, headers={"x-content-sha256": sha}
    )
    assert stored.status_code == 200 and stored.json()["status"] == "stored"
    again = device.http.put(
        f"/api/sync/photos/{uid}/original", content=body, headers={"x-content-sha256": sha}
    )
    assert again.json()["status"] == "unchanged"
    assert device.http.get("/api/sync/pending").json()["photos_uuids"] == []
    record_again = device.http.post("/api/sync/photos", json={"photos": [{**record, "checksum_sha256": sha}]})
    assert record_again.json()["results"][0]["needs_upload"] is False


def test_the_checksum_may_come_from_the_metadata(accounts: Accounts) -> None:
    device = accounts.device()
    body, sha = body_and_sha(seed=b"meta")
    record = photo_record(checksum_sha256=sha)
    device.http.post("/api/sync/photos", json={"photos": [record]})
    response = device.http.put(f"/api/sync/photos/{record['photos_uuid']}/original", content=body)
    assert response.status_code == 200 and response.json()["sha256"] == sha


def test_a_new_checksum_in_metadata_asks_for_the_original_again(accounts: Accounts) -> None:
    device = accounts.device()
    body, sha = body_and_sha(seed=b"v1")
    record = photo_record(checksum_sha256=sha)
    device.http.post("/api/sync/photos", json={"photos": [record]})
    device.http.put(f"/api/sync/photos/{record['photos_uuid']}/original", content=body)
    new_body, new_sha = body_and_sha(seed=b"v2")
    answer = device.http.post("/api/sync/photos", json={"photos": [{**record, "checksum_sha256": new_sha}]})
    assert answer.json()["results"][0] == {
        **answer.json()["results"][0],
        "status": "updated",
        "needs_upload": True,
    }
    assert record["photos_uuid"] in device.http.get("/api/sync/pending").json()["photos_uuids"]
    device.http.put(f"/api/sync/photos/{record['photos_uuid']}/original", content=new_body)
    photo = device.owner.http.get("/api/photos").json()["photos"][0]
    link = device.owner.http.get(f"/api/photos/{photo['id']}/download").json()["url"]
    assert httpx.get(link).content == new_body


def test_every_sync_call_leaves_a_log_and_moves_last_sync(accounts: Accounts) -> None:
    device = accounts.device()
    record = photo_record()
    device.http.post("/api/sync/photos", json={"photos": [record]})
    device.http.put(
        f"/api/sync/photos/{record['photos_uuid']}/original",
        content=b"abc",
        headers={"x-content-sha256": "0" * 64},
    )
    device.http.post("/api/sync/albums", json={"albums": [], "complete": True})
    status = device.http.get("/api/sync/status").json()
    logs = status["recent_logs"]
    assert [entry["sync_type"] for entry in logs] == ["albums", "upload", "photos"]
    assert logs[2]["created"] == 1 and logs[2]["errors_count"] == 0
    assert logs[1]["errors_count"] == 1 and logs[1]["errors"][0]["code"] == "checksum_mismatch"
    assert all(entry["completed_at"] and entry["started_at"] for entry in logs)
    assert status["last_sync_at"] == logs[0]["completed_at"]
    devices = device.owner.http.get("/api/devices").json()["devices"]
    assert next(d for d in devices if d["id"] == device.id)["last_sync_at"] == logs[0]["completed_at"]


def test_albums_are_upserted_reordered_and_removed_when_missing_from_a_complete_list(
    accounts: Accounts,
) -> None:
    device = accounts.device()
    records = records_over_days(3)
    device.http.post("/api/sync/photos", json={"photos": records})
    uuids = [r["photos_uuid"] for r in records]
    keep, drop = str(uuid.uuid4()), str(uuid.uuid4())
    albums = [
        {
            "photos_uuid": keep,
            "title": "2019-10/11 Paris Clermont",
            "folder_path": ["Trips", "France"],
            "photos": uuids,
        },
        {"photos_uuid": drop, "title": "Old", "photos": uuids[:1]},
    ]
    first = device.http.post("/api/sync/albums", json={"albums": albums}).json()
    assert first["created"] == 2
    unchanged = device.http.post("/api/sync/albums", json={"albums": albums}).json()
    assert unchanged["unchanged"] == 2 and unchanged["created"] == 0
    reordered = [{**albums[0], "photos": list(reversed(uuids))}]
    second = device.http.post("/api/sync/albums", json={"albums": reordered, "complete": True}).json()
    assert second["updated"] == 1 and second["removed"] == 1
    listed = device.owner.http.get("/api/albums").json()["albums"]
    assert [a["title"] for a in listed] == ["2019-10/11 Paris Clermont"]
    assert listed[0]["folder_path"] == ["Trips", "France"] and listed[0]["photo_count"] == 3
    detail = device.owner.http.get(f"/api/albums/{listed[0]['id']}").json()
    assert [p["photos_uuid"] for p in detail["photos"]] == [u.upper() for u in reversed(uuids)]


def test_album_members_not_yet_synced_are_reported(accounts: Accounts) -> None:
    device = accounts.device()
    ghost = str(uuid.uuid4()).upper()
    album = {"photos_uuid": str(uuid.uuid4()), "title": "A", "photos": [ghost]}
    answer = device.http.post("/api/sync/albums", json={"albums": [album]}).json()
    assert answer["missing_photos"] == [ghost]


def test_one_user_never_sees_anothers_photos_albums_or_devices(server: Server, accounts: Accounts) -> None:
    device = accounts.device()
    record = photo_record()
    device.http.post("/api/sync/photos", json={"photos": [record]})
    device.http.post(
        "/api/sync/albums",
        json={"albums": [{"photos_uuid": str(uuid.uuid4()), "title": "Mine", "photos": []}]},
    )
    mine = device.owner.http.get("/api/photos").json()["photos"][0]
    album = device.owner.http.get("/api/albums").json()["albums"][0]
    stranger = accounts.user()
    assert stranger.http.get("/api/photos").json()["photos"] == []
    assert stranger.http.get("/api/albums").json()["albums"] == []
    for path in (
        f"/api/photos/{mine['id']}",
        f"/api/photos/{mine['id']}/download",
        f"/api/photos/{mine['id']}/thumbnail/small",
        f"/api/albums/{album['id']}",
    ):
        response = stranger.http.get(path)
        assert response.status_code == 404, path
    assert stranger.http.get("/api/photos", params={"album_id": album["id"]}).status_code == 404
    other_device = accounts.device(stranger)
    same_uuid = other_device.http.post("/api/sync/photos", json={"photos": [record]}).json()
    assert same_uuid["results"][0]["status"] == "created"  # photos_uuid is unique per owner only
    assert len(device.owner.http.get("/api/photos").json()["photos"]) == 1


def test_status_for_the_user_counts_uploads_and_thumbnails(accounts: Accounts) -> None:
    device = accounts.device()
    records = records_over_days(3)
    device.http.post("/api/sync/photos", json={"photos": records})
    body, sha = body_and_sha()
    device.http.put(
        f"/api/sync/photos/{records[0]['photos_uuid']}/original",
        content=body,
        headers={"x-content-sha256": sha},
    )
    status = device.owner.http.get("/api/sync/status").json()
    assert status["photos"] == 3 and status["pending_uploads"] == 2 and status["originals_stored"] == 1
    assert sum(status["thumbnails"].values()) == 1


def test_large_upload_streams_through(server: Server, accounts: Accounts) -> None:
    device = accounts.device()
    record = photo_record(filename="clip.mov", content_type="video/quicktime", media_type="video")
    device.http.post("/api/sync/photos", json={"photos": [record]})
    body, sha = body_and_sha(size=40 * 1024 * 1024, seed=b"big")

    def chunks():
        for start in range(0, len(body), 1 << 20):
            yield body[start : start + (1 << 20)]

    response = device.http.put(
        f"/api/sync/photos/{record['photos_uuid']}/original",
        content=chunks(),
        headers={"x-content-sha256": sha},
    )
    assert response.status_code == 200, response.text
    assert response.json()["size"] == len(body)


def test_the_same_new_photos_sent_at_once_from_two_devices_are_stored_once(accounts: Accounts) -> None:
    """Two Macs on one iCloud library send the same new photos at the same moment."""
    owner = accounts.user()
    devices = [accounts.device(owner), accounts.device(owner)]
    batch = {"photos": records_over_days(100)}
    start = threading.Barrier(6)

    def send(device_index: int) -> int:
        with accounts.server.client(devices[device_index].token) as http:
            start.wait(timeout=30)
            return http.post("/api/sync/photos", json=batch).status_code

    with ThreadPoolExecutor(6) as pool:
        statuses = list(pool.map(send, [0, 1, 0, 1, 0, 1]))
    assert set(statuses) <= {200, 409} and 200 in statuses, statuses  # a loser is told to retry
    again = devices[1].http.post("/api/sync/photos", json=batch)
    assert again.status_code == 200 and again.json()["unchanged"] == 100, again.text
    assert owner.http.get("/api/sync/status").json()["photos"] == 100  # each photo once
