"""The facts in Photos, every file kind, and the hidden, deleted and burst views, through HTTP."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.helpers.records import body_and_sha, photo_record
from tests.helpers.server import Accounts, Device

pytestmark = pytest.mark.parametrize("server", ["sqlite", "postgres"], indirect=True)

FACTS: dict[str, Any] = {
    "title": "Sunset at the pier",
    "description": "Caption typed in Photos\nwith a second line, and ünïcode ✓",
    "keywords": ["beach", "sunset", "family"],
    "persons": ["Ada Lovelace", "Alan Turing"],
    "place": {"name": "Santa Monica Pier", "city": "Santa Monica", "country": "United States"},
    "camera": {
        "make": "Apple",
        "model": "iPhone 15 Pro",
        "lens": "iPhone 15 Pro back triple camera 6.86mm f/1.78",
        "iso": 80,
        "aperture": 1.78,
        "shutter": 0.008,
        "focal_length": 6.86,
    },
    "subtypes": ["live", "portrait"],
    "is_hidden": False,
    "burst_id": None,
    "burst_key": False,
}


def send(device: Device, *records: dict[str, Any]) -> httpx.Response:
    return device.http.post("/api/sync/photos", json={"photos": list(records)})


def detail(device: Device, photo_id: str) -> dict[str, Any]:
    response = device.owner.http.get(f"/api/photos/{photo_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def listed(device: Device, **params: Any) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = device.owner.http.get("/api/photos", params=query)
        assert page.status_code == 200, page.text
        seen += page.json()["photos"]
        cursor = page.json()["next_cursor"]
        if not cursor:
            return seen


def uuids(photos: list[dict[str, Any]]) -> list[str]:
    return [p["photos_uuid"] for p in photos]


def test_every_fact_round_trips_and_changes_arrive_as_updates(accounts: Accounts) -> None:
    device = accounts.device()
    record = photo_record(**FACTS)
    created = send(device, record).json()["results"][0]
    shown = detail(device, created["id"])
    for name, value in FACTS.items():
        assert shown[name] == value, name
    assert shown["files"] == [] and shown["deleted_at"] is None

    assert send(device, record).json()["results"][0]["status"] == "unchanged"
    changes: dict[str, Any] = {
        "title": "Renamed",
        "description": None,
        "keywords": ["beach"],
        "persons": [],
        "place": {"name": "Venice Beach", "city": None, "country": None},
        "camera": {"make": "Canon", "iso": 400},
        "subtypes": ["screenshot"],
    }
    for name, value in changes.items():
        answer = send(device, {**record, name: value}).json()["results"][0]
        assert answer["status"] == "updated", name
        record[name] = value
    shown = detail(device, created["id"])
    assert {name: shown[name] for name in changes} == {
        **changes,
        "camera": {
            "make": "Canon",
            "model": None,
            "lens": None,
            "iso": 400,
            "aperture": None,
            "shutter": None,
            "focal_length": None,
        },
    }
    bare = {k: v for k, v in record.items() if k not in FACTS}  # absent facts are none
    assert send(device, bare).json()["results"][0]["status"] == "updated"
    shown = detail(device, created["id"])
    assert (shown["title"], shown["keywords"], shown["place"], shown["camera"], shown["subtypes"]) == (
        None,
        [],
        None,
        None,
        [],
    )


BAD_FACTS = [
    {"title": "a\x00b"},
    {"title": "t" * 1025},
    {"description": "d" * 65_537},
    {"keywords": ["k"] * 1001},
    {"keywords": ["x" * 257]},
    {"keywords": "beach"},
    {"persons": ["Ada\x00"]},
    {"place": {"city": "Paris"}},
    {"place": {"name": "Paris", "zip": "75001"}},
    {"camera": {"iso": "100"}},
    {"camera": {"aperture": -1}},
    {"camera": {"flash": True}},
    {"subtypes": ["cinematic"]},
    {"subtypes": ["raw", "raw"]},
    {"burst_id": "b" * 65},
    {"burst_id": ""},
    {"burst_key": "yes"},
]


def test_bad_facts_are_refused_and_change_nothing(accounts: Accounts) -> None:
    device = accounts.device()
    record = photo_record(**FACTS)
    photo_id = send(device, record).json()["results"][0]["id"]
    for bad in BAD_FACTS:
        response = send(device, {**record, **bad})
        assert response.status_code == 422, bad
        assert response.json()["error"]["code"] == "validation_error", bad
        assert "\x00" not in response.text
        fresh = send(device, photo_record(**bad))
        assert fresh.status_code == 422, bad
    assert detail(device, photo_id)["title"] == FACTS["title"]
    assert uuids(listed(device)) == [record["photos_uuid"]]


@pytest.mark.parametrize("kind", ["raw", "edited_live_video"])
def test_new_file_kinds_are_declared_uploaded_listed_and_downloaded_by_sha256(
    accounts: Accounts, kind: str
) -> None:
    device = accounts.device()
    body, sha = body_and_sha(20_000, seed=kind.encode())
    filename = "IMG_0001.CR2" if kind == "raw" else "IMG_0001_edited.MOV"
    record = photo_record(**{f"{kind}_sha256": sha, f"{kind}_filename": filename})
    uid = record["photos_uuid"]
    photo_id = send(device, record).json()["results"][0]["id"]
    pending = device.http.get("/api/sync/pending", params={"kinds": f"original,{kind}"}).json()
    assert {(i["photos_uuid"], i["kind"]) for i in pending["items"]} == {(uid, "original"), (uid, kind)}

    wrong = device.http.put(
        f"/api/sync/photos/{uid}/{kind}", content=body + b"!", headers={"x-content-sha256": sha}
    )
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "checksum_mismatch"
    assert device.owner.http.get(f"/api/photos/{photo_id}/download/{kind}").status_code == 404

    if kind == "raw":
        stored = device.http.put(
            f"/api/sync/photos/{uid}/{kind}", content=body, headers={"x-content-sha256": sha}
        )
    else:  # the longest kind name, through a resumable upload (its row keeps the kind)
        start = {"photos_uuid": uid, "kind": kind, "size": len(body), "sha256": sha}
        upload = device.http.post("/api/sync/uploads", json=start)
        assert upload.status_code == 201, upload.text
        stored = device.http.patch(
            f"/api/sync/uploads/{upload.json()['upload_id']}", content=body, headers={"upload-offset": "0"}
        )
    assert stored.status_code == 200 and stored.json()["status"] == "stored", stored.text
    pending = device.http.get("/api/sync/pending", params={"kinds": f"original,{kind}"}).json()
    assert {i["kind"] for i in pending["items"]} == {"original"}
    files = detail(device, photo_id)["files"]
    content_type = "application/octet-stream" if kind == "raw" else "video/quicktime"
    assert files == [
        {
            "kind": kind,
            "filename": filename,
            "content_type": files[0]["content_type"],
            "size": len(body),
            "sha256": sha,
        }
    ]
    assert kind == "raw" or files[0]["content_type"] == content_type
    url = device.owner.http.get(f"/api/photos/{photo_id}/download/{kind}").json()["url"]
    assert httpx.get(url).content == body


def test_hidden_photos_are_only_in_the_hidden_view_and_not_in_albums_or_counts(accounts: Accounts) -> None:
    device = accounts.device()
    shown, hidden = photo_record(), photo_record(is_hidden=True, title="secret")
    send(device, shown, hidden)
    album = {
        "photos_uuid": str(uuid.uuid4()),
        "title": "Both",
        "photos": [shown["photos_uuid"], hidden["photos_uuid"]],
    }
    device.http.post("/api/sync/albums", json={"albums": [album]})

    assert uuids(listed(device)) == [shown["photos_uuid"]]
    assert uuids(listed(device, hidden="true")) == [hidden["photos_uuid"]]
    entry = device.owner.http.get("/api/albums").json()["albums"][0]
    in_album = device.owner.http.get(f"/api/albums/{entry['id']}").json()
    assert entry["photo_count"] == in_album["photo_count"] == len(in_album["photos"]) == 1
    assert uuids(listed(device, album_id=entry["id"])) == [shown["photos_uuid"]]

    send(device, {**hidden, "is_hidden": False})  # unhidden in Photos: back on the next pass
    assert set(uuids(listed(device))) == {shown["photos_uuid"], hidden["photos_uuid"]}
    assert listed(device, hidden="true") == []
    assert device.owner.http.get("/api/albums").json()["albums"][0]["photo_count"] == 2


def test_removed_photos_are_listed_as_deleted_and_restored(accounts: Accounts) -> None:
    device = accounts.device()
    kept, gone = photo_record(), photo_record()
    send(device, kept, gone)
    album = {
        "photos_uuid": str(uuid.uuid4()),
        "title": "Two",
        "photos": [kept["photos_uuid"], gone["photos_uuid"]],
    }
    device.http.post("/api/sync/albums", json={"albums": [album]})
    gone_id = send(device, gone).json()["results"][0]["id"]

    removed = device.http.post("/api/sync/photos/deleted", json={"photos_uuids": [gone["photos_uuid"]]})
    assert removed.json() == {"deleted": 1}
    assert uuids(listed(device)) == [kept["photos_uuid"]]
    deleted = listed(device, deleted="true")
    assert uuids(deleted) == [gone["photos_uuid"]] and deleted[0]["deleted_at"]
    assert detail(device, gone_id)["deleted_at"] == deleted[0]["deleted_at"]
    assert device.owner.http.get("/api/albums").json()["albums"][0]["photo_count"] == 1

    stranger = accounts.device()
    assert stranger.owner.http.post(f"/api/photos/{gone_id}/restore").status_code == 404
    restored = device.owner.http.post(f"/api/photos/{gone_id}/restore")
    assert restored.status_code == 200 and restored.json()["deleted_at"] is None
    assert set(uuids(listed(device))) == {kept["photos_uuid"], gone["photos_uuid"]}
    assert listed(device, deleted="true") == []
    assert device.owner.http.get("/api/albums").json()["albums"][0]["photo_count"] == 2
    assert device.owner.http.post(f"/api/photos/{gone_id}/restore").status_code == 200  # nothing to do


def test_a_burst_is_one_timeline_item_and_its_frames_are_listed(accounts: Accounts) -> None:
    device = accounts.device()
    burst = str(uuid.uuid4()).upper()
    frames = [
        photo_record(
            taken_at=f"2024-06-01T12:00:0{i}Z", burst_id=burst, burst_key=(i == 2), subtypes=["burst"]
        )
        for i in range(5)
    ]
    alone = photo_record(taken_at="2024-06-02T12:00:00Z")
    send(device, *frames, alone)

    timeline = listed(device)
    assert uuids(timeline) == [alone["photos_uuid"], frames[2]["photos_uuid"]]
    assert timeline[0]["burst_count"] is None and timeline[1]["burst_count"] == 5
    assert timeline[1]["burst_id"] == burst
    assert uuids(listed(device, burst_id=burst)) == [f["photos_uuid"] for f in reversed(frames)]

    send(device, {**frames[2], "burst_key": False}, {**frames[0], "is_hidden": True})
    timeline = listed(device)
    assert uuids(timeline)[1] == frames[1]["photos_uuid"] and timeline[1]["burst_count"] == 4
    stranger = accounts.device()
    assert listed(stranger, burst_id=burst) == []


def test_views_cannot_be_combined(accounts: Accounts) -> None:
    device = accounts.device()
    for params in ({"hidden": "true", "deleted": "true"}, {"burst_id": "x", "hidden": "true"}):
        response = device.owner.http.get("/api/photos", params=params)
        assert response.status_code == 400 and response.json()["error"]["code"] == "conflicting_filters"
    assert device.owner.http.get("/api/photos", params={"hidden": "maybe"}).status_code == 422


def test_the_views_facts_and_kinds_are_in_the_openapi_document(accounts: Accounts) -> None:
    with accounts.server.client() as http:
        document = http.get("/openapi.json").json()
    listing = document["paths"]["/api/photos"]["get"]["parameters"]
    assert {"hidden", "deleted", "burst_id"} <= {p["name"] for p in listing}
    assert "/api/photos/{photo_id}/restore" in document["paths"]
    record = document["components"]["schemas"]["PhotoRecord"]["properties"]
    assert {*FACTS, "raw_sha256", "edited_live_video_sha256"} <= set(record)
    assert {"raw", "edited_live_video"} <= set(document["components"]["schemas"]["FileKind"]["enum"])


def test_a_photo_created_by_a_batch_reads_back_as_one_written_by_an_update(accounts: Accounts) -> None:
    """New rows skip SQLAlchemy (SQLite: the driver's executemany; PostgreSQL: COPY); a photo
    updated to the same values goes through it. Both read back alike, in every shape."""
    device = accounts.device()
    values = {
        **FACTS,
        "taken_at": "2021-03-04T05:06:07-07:00",  # no microseconds, another zone: stored as UTC
        "timezone": "America/Denver",
        "checksum_sha256": "ab" * 32,
        "is_favorite": True,
        "file_size": 2**62,
        "place": {"name": "Zürich HB ✓", "city": None, "country": "Schweiz"},
        "burst_id": "BURST-1",
        "burst_key": True,
    }
    created = photo_record(filename="IMG_7001.HEIC", content_type="image/heic", **values)
    updated = photo_record(filename="IMG_7001.HEIC", content_type="image/heic")
    assert [r["status"] for r in send(device, created, updated).json()["results"]] == ["created"] * 2
    answer = send(device, {**updated, **values}).json()
    assert answer["results"][0]["status"] == "updated"
    ids = {r["photos_uuid"]: r["id"] for r in send(device, created).json()["results"]}
    ids[updated["photos_uuid"]] = answer["results"][0]["id"]

    def alike(shape: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in shape.items() if k not in ("id", "photos_uuid", "created_at", "updated_at")}

    first, second = (detail(device, ids[r["photos_uuid"]]) for r in (created, updated))
    assert first["taken_at"] == "2021-03-04T05:06:07-07:00" and first["place"] == values["place"]
    assert alike(first) == alike(second)
    listing = {p["photos_uuid"]: alike(p) for p in listed(device, burst_id="BURST-1")}
    assert listing[created["photos_uuid"]] == listing[updated["photos_uuid"]]
    found = listed(device, burst_id="BURST-1", q="zurich pier")  # the word index has both
    assert sorted(uuids(found)) == sorted([created["photos_uuid"], updated["photos_uuid"]])
