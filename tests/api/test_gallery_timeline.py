"""The timeline's scrubber and filters: month counts, starting further down, paging up, date and
kind filters; and the Sync page's passes. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from tests.helpers.records import photo_record
from tests.helpers.server import Accounts

BACKENDS = pytest.mark.parametrize("server", ["sqlite", "postgres"], indirect=True)


def walk(http, **params) -> list[dict]:
    seen, cursor = [], None
    while True:
        page = http.get("/api/photos", params={**params, **({"cursor": cursor} if cursor else {})}).json()
        seen.extend(page["photos"])
        cursor = page["next_cursor"]
        if not cursor:
            return seen


def library(accounts: Accounts):
    """Three photos in each month of 2022 and 2023 (one favorite video per month), newest last."""
    device = accounts.device()
    records = []
    for year in (2022, 2023):
        for month in range(1, 13):
            for day in (3, 14, 25):
                video = day == 14
                records.append(
                    photo_record(
                        taken_at=f"{year}-{month:02d}-{day:02d}T10:00:00Z",
                        filename=f"P_{year}_{month:02d}_{day:02d}.{'MOV' if video else 'JPG'}",
                        media_type="video" if video else "photo",
                        is_favorite=video,
                    )
                )
    records.append(photo_record(taken_at="2023-06-14T11:00:00Z", is_hidden=True, filename="HIDDEN.JPG"))
    for start in range(0, len(records), 100):
        assert (
            device.http.post("/api/sync/photos", json={"photos": records[start : start + 100]}).status_code
            == 200
        )
    return device


@BACKENDS
def test_month_counts_follow_the_filters_and_leave_hidden_photos_out(accounts: Accounts) -> None:
    http = library(accounts).owner.http
    months = http.get("/api/photos/months").json()["months"]
    assert months[0] == {"month": "2023-12", "count": 3}
    assert months[-1] == {"month": "2022-01", "count": 3}
    assert len(months) == 24 and {m["count"] for m in months} == {3}  # the hidden one is not counted
    videos = http.get("/api/photos/months", params={"media_type": "video", "from": "2023-01-01"}).json()
    assert videos["months"] == [{"month": f"2023-{m:02d}", "count": 1} for m in range(12, 0, -1)]
    assert (
        http.get("/api/photos/months", params={"from": "yesterday"}).json()["error"]["code"] == "invalid_date"
    )


@BACKENDS
def test_a_listing_started_at_a_month_pages_down_and_back_up_to_the_newest(accounts: Accounts) -> None:
    http = library(accounts).owner.http
    everything = [p["filename"] for p in walk(http)]
    page = http.get("/api/photos", params={"before": "2022-07-01", "limit": 5}).json()
    names = [p["filename"] for p in page["photos"]]
    assert names == everything[everything.index("P_2022_06_25.JPG") :][:5]
    assert page["prev_cursor"] and page["next_cursor"]
    above, cursor = [], page["prev_cursor"]
    while cursor:
        newer = http.get("/api/photos", params={"cursor": cursor, "direction": "newer", "limit": 7}).json()
        above = [p["filename"] for p in newer["photos"]] + above
        cursor = newer["prev_cursor"]
    assert above + names == everything[: len(above) + 5]
    assert http.get("/api/photos", params={"limit": 5}).json()["prev_cursor"] is None


@BACKENDS
def test_favorite_media_type_and_date_range_filters(accounts: Accounts) -> None:
    http = library(accounts).owner.http
    favorites = walk(http, favorite="true")
    assert len(favorites) == 24 and all(p["is_favorite"] for p in favorites)
    assert len(walk(http, favorite="false")) == 48
    videos = walk(http, media_type="video", limit=5)
    assert [p["filename"] for p in videos][:2] == ["P_2023_12_14.MOV", "P_2023_11_14.MOV"]
    spring = walk(http, **{"from": "2022-03-03", "to": "2022-04-14"})
    assert [p["filename"] for p in spring] == [
        "P_2022_04_14.MOV",
        "P_2022_04_03.JPG",
        "P_2022_03_25.JPG",
        "P_2022_03_14.MOV",
        "P_2022_03_03.JPG",
    ]
    assert walk(http, **{"from": "2022-03-03T10:00:01Z", "to": "2022-03-14T10:00:00+00:00"}) == []
    bad = http.get("/api/photos", params={"media_type": "painting"})
    assert bad.status_code == 422
    assert http.get("/api/photos", params={"to": "2022-03-03T10:00:00"}).status_code == 400  # no zone


@BACKENDS
def test_sync_passes_group_a_devices_calls(accounts: Accounts) -> None:
    device = accounts.device()
    records = [photo_record(filename=f"S_{i}.JPG") for i in range(3)]
    assert device.http.post("/api/sync/photos", json={"photos": records}).status_code == 200
    assert device.http.post("/api/sync/photos", json={"photos": records}).status_code == 200
    body = b"not really a jpeg" * 100
    import hashlib

    sha = hashlib.sha256(body).hexdigest()
    records[0].update(checksum_sha256=sha, file_size=len(body))
    device.http.post("/api/sync/photos", json={"photos": [records[0]]})
    put = device.http.put(
        f"/api/sync/photos/{records[0]['photos_uuid']}/original",
        content=body,
        headers={"x-content-sha256": sha},
    )
    assert put.status_code == 200, put.text
    bad = device.http.put(
        f"/api/sync/photos/{records[1]['photos_uuid']}/original",
        content=b"x",
        headers={"x-content-sha256": sha},
    )
    assert bad.status_code >= 400
    passes = device.owner.http.get("/api/sync/passes").json()["passes"]
    assert len(passes) == 1
    one = passes[0]
    assert one["device_id"] == device.id
    assert one["calls"] == 5
    assert one["photos_sent"] == 7 and one["created"] == 3
    assert one["files_uploaded"] == 1 and one["bytes_uploaded"] == len(body)
    assert one["errors_count"] == 1 and one["errors"][0]["code"]
    assert one["duration_seconds"] >= 0 and one["started_at"] <= one["completed_at"]
    assert device.http.get("/api/sync/passes").json()["passes"] == passes  # the device sees its own
    assert accounts.user().http.get("/api/sync/passes").json()["passes"] == []


def true_months(http) -> dict[str, int]:
    """The library listing walked and counted by UTC month of capture (a burst shows as one photo)."""
    taken = (datetime.fromisoformat(p["taken_at"]) for p in walk(http, limit=200))
    return dict(Counter(at.astimezone(UTC).strftime("%Y-%m") for at in taken))


def assert_months_true(http) -> dict[str, int]:
    """The scrubber's month counts, newest first, equal to the true ones."""
    answered = http.get("/api/photos/months").json()["months"]
    assert [m["month"] for m in answered] == sorted((m["month"] for m in answered), reverse=True)
    months = {m["month"]: m["count"] for m in answered}
    assert months == true_months(http)
    return months


@BACKENDS
def test_month_counts_stay_true_as_photos_change_and_each_user_has_their_own(accounts: Accounts) -> None:
    device, other = accounts.device(), accounts.device()
    http = device.owner.http
    plain = [photo_record(taken_at=f"2021-{m:02d}-10T12:00:00Z", filename=f"M{m}.JPG") for m in (1, 1, 2, 3)]
    burst = [
        photo_record(
            taken_at=f"2021-0{m}-28T23:59:0{i}Z", burst_id="B1", burst_key=i == 2, filename=f"B{i}.JPG"
        )
        for i, m in ((0, 4), (1, 4), (2, 5))
    ]
    hidden = photo_record(taken_at="2021-03-01T00:00:00Z", is_hidden=True)
    late = photo_record(taken_at="2021-06-30T23:30:00-02:00")  # July in UTC
    records = [*plain, *burst, hidden, late]

    def sync(*changed: dict) -> None:
        assert device.http.post("/api/sync/photos", json={"photos": list(changed)}).status_code == 200

    sync(*records)
    elsewhere = photo_record(taken_at="2021-01-02T00:00:00Z")
    assert other.http.post("/api/sync/photos", json={"photos": [elsewhere]}).status_code == 200
    assert assert_months_true(http) == {
        "2021-07": 1,
        "2021-05": 1,
        "2021-03": 1,
        "2021-02": 1,
        "2021-01": 2,
    }  # the burst once, in its key frame's month; the hidden photo not at all
    assert assert_months_true(other.owner.http) == {"2021-01": 1}

    plain[0]["taken_at"] = "2021-08-01T08:00:00Z"  # a date changed
    hidden["is_hidden"] = False  # shown again
    plain[3]["is_hidden"] = True  # hidden
    sync(plain[0], hidden, plain[3])
    assert assert_months_true(http) == {
        "2021-08": 1,
        "2021-07": 1,
        "2021-05": 1,
        "2021-03": 1,
        "2021-02": 1,
        "2021-01": 1,
    }

    gone = [plain[1]["photos_uuid"], burst[2]["photos_uuid"], hidden["photos_uuid"]]
    assert device.http.post("/api/sync/photos/deleted", json={"photos_uuids": gone}).json() == {"deleted": 3}
    assert assert_months_true(http) == {"2021-08": 1, "2021-07": 1, "2021-04": 1, "2021-02": 1}

    removed = {p["photos_uuid"]: p["id"] for p in walk(http, deleted="true")}
    restored = http.post(f"/api/photos/{removed[plain[1]['photos_uuid']]}/restore")
    assert restored.status_code == 200
    assert http.post(f"/api/photos/{removed[plain[1]['photos_uuid']]}/restore").status_code == 200  # twice
    assert http.post(f"/api/photos/{removed[burst[2]['photos_uuid']]}/restore").status_code == 200
    sync(hidden)  # a removed photo sent again comes back
    late["burst_id"], plain[2]["burst_id"] = "B2", "B2"  # two photos become a burst
    sync(late, plain[2])
    assert assert_months_true(http) == {"2021-08": 1, "2021-05": 1, "2021-03": 1, "2021-02": 1, "2021-01": 1}
    late["burst_id"] = None  # and apart again
    burst[0]["burst_key"] = True  # the earliest key frame leads
    sync(late, burst[0])
    assert assert_months_true(http) == {
        "2021-08": 1,
        "2021-07": 1,
        "2021-04": 1,
        "2021-03": 1,
        "2021-02": 1,
        "2021-01": 1,
    }
    assert assert_months_true(other.owner.http) == {"2021-01": 1}
    filtered = http.get("/api/photos/months", params={"from": "2021-01-01"}).json()["months"]
    assert {m["month"]: m["count"] for m in filtered} == assert_months_true(http)
