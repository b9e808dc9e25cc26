"""The worker's publish sweep: cached renditions that no set needs any more (a photo taken out,
a focal point moved, a preset deleted, an edit arrived) and the notes of failures beside them are
removed, the others (those of sets and of active album links) kept; a note of a failure of an
older source never applies; a large set's render-ahead row that no download followed expires.
On the local store and the real S3 server."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from tests.helpers.publish import jpeg, photo_ids, send_photo, unzip
from tests.helpers.server import Accounts, Device, Server, start_server
from tests.ops.test_month_counts_migration import _engine
from tests.publish.test_download_large import _cached, _failure_notes, _until_zip

THRESHOLD = 2  # sets of more photos render in the queue first


@pytest.fixture(scope="module", params=["sqlite", "s3"])
def sweeping_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    extra = {"PUBLISH_ASYNC_PHOTOS": str(THRESHOLD), "PUBLISH_SWEEP_EVERY": "1s"}
    if request.param == "s3":
        extra |= request.getfixturevalue("s3_env") | {"MINIO_BUCKET": f"ia-sweep-{secrets.token_hex(4)}"}
    server = start_server(tmp_path_factory.mktemp("sweep"), request.param, extra)
    yield server
    server.stop()
    assert "Traceback" not in server.log_text(), server.log_text()[-4000:]


@pytest.fixture
def accounts(sweeping_server: Server) -> Iterator[Accounts]:
    made = Accounts(sweeping_server)
    yield made
    made.close()


def _until(condition: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _photos(device: Device, count: int) -> tuple[list[dict[str, Any]], list[str]]:
    records = [send_photo(device, jpeg(1600, 1200, colour=(30 * i, 90, 160))) for i in range(count)]
    return records, photo_ids(device, records)


def _new_set(device: Device, title: str, ids: list[str]) -> str:
    made = device.owner.http.post("/api/publish-sets", json={"title": title, "photo_ids": ids})
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def _zip(device: Device, set_id: str, preset: str) -> dict[str, bytes]:
    return unzip(_until_zip(device.owner.http, f"/api/publish-sets/{set_id}/download?preset={preset}")[1])


def test_renditions_no_set_needs_are_swept_and_the_others_kept(accounts: Accounts) -> None:
    server = accounts.server
    device = accounts.device()
    http = device.owner.http
    owner_id = http.get("/api/auth/me").json()["id"]
    records, (kept_id, moved_id, taken_out_id) = _photos(device, 3)
    shoot = _new_set(device, "Shoot", [kept_id, moved_id, taken_out_id])
    _zip(device, shoot, "square-1080")
    mine = {"name": "mine-800", "mode": "fit", "width": 800}
    assert http.post("/api/presets", json=mine).status_code == 201
    pick = _new_set(device, "Pick", [kept_id])
    _zip(device, pick, "mine-800")
    first = _cached(server, owner_id)
    assert len(first) == 4

    focal = {"photo_ids": [kept_id, moved_id], "focal_points": {moved_id: {"x": 0.1, "y": 0.5}}}
    assert http.put(f"/api/publish-sets/{shoot}", json=focal).status_code == 200
    assert http.delete("/api/presets/mine-800").status_code == 204
    _until(lambda: len(_cached(server, owner_id)) == 1, "the sweep")
    assert list(_cached(server, owner_id).values()) == [_square_of(first, records[0])]
    files = _zip(device, shoot, "square-1080")  # made again where needed: the moved photo
    assert sorted(files) == ["shoot-01.jpg", "shoot-02.jpg"]
    time.sleep(3)  # a few sweeps: nothing needed goes
    assert len(_cached(server, owner_id)) == 2

    assert http.delete(f"/api/publish-sets/{shoot}").status_code == 204
    assert http.delete(f"/api/publish-sets/{pick}").status_code == 204
    _until(lambda: not _stored_renditions(server, owner_id), "every rendition to go")


def _square_of(cached: dict[str, bytes], record: dict[str, Any]) -> bytes:
    """The cached square rendition, around the centre, of one photo's original."""
    (data,) = [v for k, v in cached.items() if f"/{record['checksum_sha256']}/" in k and "-f0.500-0.500" in k]
    return data


def _stored_renditions(server: Server, owner_id: str) -> list[str]:
    from tests.publish.test_download_large import _stored

    return sorted(_stored(server, f"renditions/{owner_id}/"))


def test_a_note_of_a_failure_does_not_outlive_its_source(accounts: Accounts) -> None:
    """A photo the queue could not render, then its edit arrives before the next download: the
    old note does not count the photo as done, the edit is rendered and zipped, the note goes."""
    server = accounts.server
    device = accounts.device()
    http = device.owner.http
    owner_id = http.get("/api/auth/me").json()["id"]
    _, good = _photos(device, 2)
    broken = send_photo(device, b"not a picture at all " * 64)
    (broken_id,) = photo_ids(device, [broken])
    harbour = _new_set(device, "Harbour", [*good, broken_id])
    url = f"/api/publish-sets/{harbour}/download/state?preset=web-2048"
    assert http.get(url).json()["state"] == "rendering"
    _until(lambda: http.get(url).json()["state"] == "ready", "the queue to render")
    (note,) = _failure_notes(server, owner_id)

    edit = jpeg(1200, 900, colour=(10, 200, 10))
    record = {**broken, "edited_sha256": hashlib.sha256(edit).hexdigest(), "edited_filename": "IMG_E1.JPG"}
    assert device.http.post("/api/sync/photos", json={"photos": [record]}).status_code == 200
    put = device.http.put(
        f"/api/sync/photos/{broken['photos_uuid']}/edited",
        content=edit,
        headers={"x-content-sha256": record["edited_sha256"]},
    )
    assert put.status_code in (200, 201), put.text
    assert http.get(url).json() == {
        "state": "rendering",
        "done": 2,
        "total": 3,
    }  # the note is of the old file
    files = _zip(device, harbour, "web-2048")
    assert sorted(files) == ["harbour-01.jpg", "harbour-02.jpg", "harbour-03.jpg"]  # no REPORT.txt
    _until(lambda: _failure_notes(server, owner_id) == [], "the old note to be swept")
    assert note not in _stored_renditions(server, owner_id)


def test_a_render_ahead_row_no_download_followed_expires(accounts: Accounts) -> None:
    server = accounts.server
    device = accounts.device()
    quay = _new_set(device, "Quay", _photos(device, THRESHOLD + 1)[1])
    answer = device.owner.http.get(f"/api/publish-sets/{quay}/download?preset=square-1080")
    assert answer.status_code == 202  # and nobody comes back for the zip
    engine = _engine(server.env, server.data_dir)
    rows = text("SELECT count(*) FROM publish_renders")

    def count() -> int:
        with engine.connect() as conn:
            return int(conn.execute(rows).scalar() or 0)

    try:
        assert count() == 1
        time.sleep(3)  # a few sweeps: a fresh row stays (it keeps other processes from queueing)
        assert count() == 1
        with engine.begin() as conn:  # as if it was queued six minutes ago
            old = datetime.now(UTC) - timedelta(minutes=6)
            conn.execute(text("UPDATE publish_renders SET queued_at = :t"), {"t": old})
        _until(lambda: count() == 0, "the row to expire")
    finally:
        engine.dispose()


def test_what_an_album_link_shows_is_kept_until_the_link_is_revoked(accounts: Accounts) -> None:
    server = accounts.server
    device = accounts.device()
    http = device.owner.http
    owner_id = http.get("/api/auth/me").json()["id"]
    records, (photo_id,) = _photos(device, 1)
    album = {"photos_uuid": str(uuid.uuid4()), "title": "Trip", "photos": [records[0]["photos_uuid"]]}
    assert device.http.post("/api/sync/albums", json={"albums": [album]}).status_code == 200
    album_id = http.get("/api/albums").json()["albums"][0]["id"]
    link = {"expires_in": 600, "preset": "portrait-1080x1350"}
    made = http.post(f"/api/albums/{album_id}/shares", json=link).json()
    viewer = {"x-forwarded-for": f"198.18.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"}
    shown = httpx.get(
        f"{server.url}/api/shares/{made['token']}/photos/{photo_id}", headers=viewer, timeout=60
    )
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/jpeg"
    assert len(_cached(server, owner_id)) == 1
    time.sleep(3)  # a few sweeps: the link still shows it
    assert len(_cached(server, owner_id)) == 1
    assert http.delete(f"/api/shares/{made['id']}").status_code == 204
    _until(lambda: not _cached(server, owner_id), "the revoked link's rendition to go")
