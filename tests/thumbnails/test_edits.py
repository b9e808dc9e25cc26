"""Edits shown: thumbnails are made from the edited version (remade when it changes), the original's
are kept for "Show original", and both files download."""

from __future__ import annotations

import hashlib
import io
import uuid
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.helpers.server import Accounts, Device, Server
from tests.helpers.thumbnails import wait_for

SQLITE_AND_S3 = pytest.mark.parametrize("server", ["sqlite", "s3"], indirect=True)


def solid(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), colour).save(out, "JPEG", quality=90)
    return out.getvalue()


RED, BLUE, GREEN = (200, 30, 30), (30, 30, 200), (30, 180, 30)


def put(device: Device, photos_uuid: str, kind: str, data: bytes) -> None:
    stored = device.http.put(
        f"/api/sync/photos/{photos_uuid}/{kind}",
        content=data,
        headers={"x-content-sha256": hashlib.sha256(data).hexdigest()},
    )
    assert stored.status_code == 200, stored.text


def declare(device: Device, record: dict[str, Any], edited: bytes) -> None:
    record["edited_sha256"] = hashlib.sha256(edited).hexdigest()
    record["edited_filename"] = "IMG_0001_edited.jpg"
    assert device.http.post("/api/sync/photos", json={"photos": [record]}).status_code == 200


def thumbnail_colour(http: httpx.Client, photo_id: str, **params: str) -> tuple[int, int, int]:
    answer = http.get(f"/api/photos/{photo_id}/thumbnail/small", params=params)
    assert answer.status_code == 200, answer.text
    with Image.open(io.BytesIO(httpx.get(answer.json()["url"], timeout=30).content)) as image:
        r, g, b = image.convert("RGB").resize((1, 1)).getpixel((0, 0))  # type: ignore[misc]
        return int(r), int(g), int(b)


def near(colour: tuple[int, int, int], expected: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 20 for a, b in zip(colour, expected, strict=True))


def shows(http: httpx.Client, photo_id: str, colour: tuple[int, int, int], **params: str) -> bool:
    row = http.get(f"/api/photos/{photo_id}").json()
    return row["thumbnail_status"] == "completed" and near(thumbnail_colour(http, photo_id, **params), colour)


@SQLITE_AND_S3
def test_an_edited_photo_shows_its_edit_keeps_its_original_and_follows_a_new_edit(
    server: Server, accounts: Accounts
) -> None:
    device = accounts.device()
    http = device.owner.http
    record: dict[str, Any] = {
        "photos_uuid": str(uuid.uuid4()).upper(),
        "filename": "IMG_0001.jpg",
        "taken_at": "2024-05-01T10:00:00+00:00",
    }
    original, first_edit, second_edit = solid(RED), solid(BLUE), solid(GREEN)
    declare(device, record, first_edit)
    photo_id = device.http.post("/api/sync/photos", json={"photos": [record]}).json()["results"][0]["id"]
    put(device, record["photos_uuid"], "original", original)
    put(device, record["photos_uuid"], "edited", first_edit)
    wait_for(lambda: shows(http, photo_id, BLUE), 60, "the edit's thumbnail", every=0.3)
    assert near(thumbnail_colour(http, photo_id, version="original"), RED)
    assert http.get(f"/api/photos/{photo_id}").json()["has_edit"] is True

    declare(device, record, second_edit)
    put(device, record["photos_uuid"], "edited", second_edit)
    wait_for(lambda: shows(http, photo_id, GREEN), 60, "the new edit's thumbnail", every=0.3)
    assert near(thumbnail_colour(http, photo_id, version="original"), RED)
    for kind, data in (("original", original), ("edited", second_edit)):
        link = http.get(f"/api/photos/{photo_id}/download/{kind}")
        assert link.status_code == 200
        assert httpx.get(link.json()["url"], timeout=30).content == data
    bad = http.get(f"/api/photos/{photo_id}/thumbnail/small", params={"version": "newest"})
    assert bad.status_code == 422 and "error" in bad.json()


@pytest.mark.parametrize("server", ["sqlite"], indirect=True)
def test_a_photo_without_edit_answers_its_original_for_both_versions(
    server: Server, accounts: Accounts
) -> None:
    device = accounts.device()
    http = device.owner.http
    record = {
        "photos_uuid": str(uuid.uuid4()).upper(),
        "filename": "a.jpg",
        "taken_at": "2024-05-01T10:00:00Z",
    }
    photo_id = device.http.post("/api/sync/photos", json={"photos": [record]}).json()["results"][0]["id"]
    put(device, record["photos_uuid"], "original", solid(GREEN))
    wait_for(lambda: shows(http, photo_id, GREEN), 60, "the thumbnail", every=0.3)
    assert near(thumbnail_colour(http, photo_id, version="original"), GREEN)
    assert http.get(f"/api/photos/{photo_id}").json()["has_edit"] is False


def test_a_reverted_edit_shows_the_original_again(quick_server: Server) -> None:
    accounts = Accounts(quick_server)
    try:
        device = accounts.device()
        http = device.owner.http
        record: dict[str, Any] = {
            "photos_uuid": str(uuid.uuid4()).upper(),
            "filename": "IMG_0002.jpg",
            "taken_at": "2024-05-01T10:00:00+00:00",
        }
        edit = solid(BLUE)
        declare(device, record, edit)
        photo_id = device.http.post("/api/sync/photos", json={"photos": [record]}).json()["results"][0]["id"]
        put(device, record["photos_uuid"], "original", solid(RED))
        put(device, record["photos_uuid"], "edited", edit)
        wait_for(lambda: shows(http, photo_id, BLUE), 60, "the edit's thumbnail", every=0.3)
        record.pop("edited_sha256")
        record.pop("edited_filename")
        assert device.http.post("/api/sync/photos", json={"photos": [record]}).status_code == 200
        wait_for(lambda: shows(http, photo_id, RED), 60, "the original's thumbnail again", every=0.3)
        assert http.get(f"/api/photos/{photo_id}").json()["has_edit"] is False
    finally:
        accounts.close()
