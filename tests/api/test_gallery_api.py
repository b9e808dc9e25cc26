"""Gallery endpoints: the timeline's cursor pages, album filter, photo details."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from tests.helpers.records import photo_record, records_over_days
from tests.helpers.server import Accounts


def walk(http, **params) -> list[dict]:
    seen, cursor = [], None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        page = http.get("/api/photos", params=query).json()
        seen.extend(page["photos"])
        cursor = page["next_cursor"]
        if not cursor:
            return seen


def test_timeline_pages_are_newest_first_without_duplicates_or_gaps(accounts: Accounts) -> None:
    device = accounts.device()
    records = records_over_days(250)
    same_moment = [photo_record(taken_at="2022-05-05T05:05:05Z") for _ in range(30)]  # ties on taken_at
    no_date = [photo_record(taken_at=None)]
    for start in range(0, len(records), 100):
        device.http.post("/api/sync/photos", json={"photos": records[start : start + 100]})
    device.http.post("/api/sync/photos", json={"photos": same_moment + no_date})
    seen = walk(device.owner.http, limit=37)
    uuids = [p["photos_uuid"] for p in seen]
    assert len(uuids) == len(set(uuids)) == 281
    newest_first = [r["photos_uuid"] for r in reversed(records)]
    assert uuids[0] == no_date[0]["photos_uuid"]  # undated photos sort by arrival: now
    assert [u for u in uuids if u in set(newest_first)] == newest_first


def test_album_filter_and_hidden_photos(accounts: Accounts) -> None:
    device = accounts.device()
    records = records_over_days(10)
    hidden = photo_record(is_hidden=True)
    device.http.post("/api/sync/photos", json={"photos": records + [hidden]})
    members = [r["photos_uuid"] for r in records[::2]]
    album = {"photos_uuid": str(uuid.uuid4()), "title": "Evens", "photos": members + [hidden["photos_uuid"]]}
    device.http.post("/api/sync/albums", json={"albums": [album]})
    album_id = device.owner.http.get("/api/albums").json()["albums"][0]["id"]
    in_album = walk(device.owner.http, album_id=album_id, limit=2)
    assert [p["photos_uuid"] for p in in_album] == list(reversed(members))
    everything = walk(device.owner.http)
    assert hidden["photos_uuid"] not in {p["photos_uuid"] for p in everything}
    assert len(everything) == 10


def test_album_detail_pages_follow_the_album_order(accounts: Accounts) -> None:
    device = accounts.device()
    records = records_over_days(7)
    device.http.post("/api/sync/photos", json={"photos": records})
    order = [r["photos_uuid"] for r in (records[3], records[0], records[6], records[1], records[5])]
    device.http.post(
        "/api/sync/albums",
        json={"albums": [{"photos_uuid": str(uuid.uuid4()), "title": "Mix", "photos": order}]},
    )
    album = device.owner.http.get("/api/albums").json()["albums"][0]
    assert album["photo_count"] == 5 and album["cover"]["id"]
    seen, cursor = [], None
    while True:
        page = device.owner.http.get(
            f"/api/albums/{album['id']}", params={"limit": 2, **({"cursor": cursor} if cursor else {})}
        ).json()
        seen += [p["photos_uuid"] for p in page["photos"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == order
    first = device.owner.http.get(f"/api/photos/{album['cover']['id']}").json()
    assert first["photos_uuid"] == order[0]


def test_photo_detail_keeps_dimensions_time_zone_and_location(accounts: Accounts) -> None:
    device = accounts.device()
    record = photo_record(
        taken_at="2017-06-20T17:18:56.518000+09:30", location_lat=-34.9189, location_lng=138.5969
    )
    device.http.post("/api/sync/photos", json={"photos": [record]})
    photo = device.owner.http.get("/api/photos").json()["photos"][0]
    detail = device.owner.http.get(f"/api/photos/{photo['id']}").json()
    assert detail["width"] == 4032 and detail["height"] == 3024
    assert detail["taken_at"] == "2017-06-20T17:18:56.518000+09:30"
    assert detail["location"] == {"lat": -34.9189, "lng": 138.5969}
    assert detail["thumbnail_status"] == "pending" and detail["has_original"] is False


def test_a_photo_reads_the_same_in_the_timeline_the_album_and_its_detail(accounts: Accounts) -> None:
    device = accounts.device()
    record = photo_record(taken_at="2021-03-04T05:06:07+00:00", location_lat=48.85, location_lng=2.35)
    device.http.post("/api/sync/photos", json={"photos": [record]})
    device.http.post(
        "/api/sync/albums",
        json={
            "albums": [{"photos_uuid": str(uuid.uuid4()), "title": "One", "photos": [record["photos_uuid"]]}]
        },
    )
    listed = device.owner.http.get("/api/photos").json()["photos"][0]
    album = device.owner.http.get("/api/albums").json()["albums"][0]
    in_album = device.owner.http.get(f"/api/albums/{album['id']}").json()["photos"][0]
    detail = device.owner.http.get(f"/api/photos/{listed['id']}").json()
    assert listed == in_album == {name: detail[name] for name in listed}  # the detail adds facts and files
    assert uuid.UUID(detail["id"]) and detail["photos_uuid"] == record["photos_uuid"].upper()
    assert detail["taken_at"] == "2021-03-04T05:06:07+00:00"  # the zone it was taken in, as sent
    for instant in ("created_at", "updated_at"):
        assert detail[instant].endswith("Z")
        sent = datetime.fromisoformat(detail[instant].replace("Z", "+00:00"))
        assert abs((datetime.now(UTC) - sent).total_seconds()) < 300
