"""Playback renditions through the real server: an iPhone-style HEVC .MOV and a Live video become
H.264/AAC MP4s (at most 1080p, moov first) served with Range; videos browsers play stay as they are."""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers.server import Accounts, Device, Server
from tests.helpers.thumbnails import launch, start_worker, wait_for
from tests.helpers.videos import describe, make_video


def send_video(device: Device, data: bytes, filename: str, *, live: bytes | None = None) -> str:
    """Metadata and files of a made-up video (or, with `live`, a Live Photo); returns its id."""
    record: dict[str, Any] = {
        "photos_uuid": str(uuid.uuid4()).upper(),
        "filename": filename,
        "media_type": "photo" if live else "video",
        "taken_at": "2024-05-01T10:00:00+00:00",
    }
    if live is not None:
        record["live_video_sha256"] = hashlib.sha256(live).hexdigest()
        record["live_video_filename"] = "IMG_0001.MOV"
    created = device.http.post("/api/sync/photos", json={"photos": [record]})
    assert created.status_code == 200, created.text
    put(device, record["photos_uuid"], "original", data)
    if live is not None:
        put(device, record["photos_uuid"], "live_video", live)
    return str(created.json()["results"][0]["id"])


def put(device: Device, photos_uuid: str, kind: str, data: bytes) -> None:
    stored = device.http.put(
        f"/api/sync/photos/{photos_uuid}/{kind}",
        content=data,
        headers={"x-content-sha256": hashlib.sha256(data).hexdigest()},
    )
    assert stored.status_code == 200, stored.text


def playback_when_ready(http: httpx.Client, photo_id: str, kind: str = "original") -> dict[str, Any]:
    def ready() -> dict[str, Any] | None:
        answer = http.get(f"/api/photos/{photo_id}/playback", params={"kind": kind})
        if answer.status_code == 200:
            return dict(answer.json())
        assert answer.status_code == 404, answer.text
        state = answer.json()["error"]["details"]["state"]
        assert state in ("pending", "processing"), answer.text
        return None

    return dict(wait_for(ready, 90, f"the {kind} playback of {photo_id}", every=0.3))


# The HEVC test runs on every backend (S3 answers the Range requests itself); the rest on one.
SQLITE_ONLY = pytest.mark.parametrize("server", ["sqlite"], indirect=True)


@pytest.fixture(scope="module")
def iphone_video() -> bytes:
    """HEVC in a QuickTime file, taller than 1080 on its short side, turned a quarter."""
    return make_video(width=1620, height=1200, frames=3, rotation=90)


def test_an_hevc_mov_plays_as_an_h264_mp4_of_at_most_1080p_served_with_ranges(
    server: Server, accounts: Accounts, iphone_video: bytes
) -> None:
    device = accounts.device()
    photo_id = send_video(device, iphone_video, "IMG_0001.MOV")
    http = device.owner.http
    found = playback_when_ready(http, photo_id)
    assert found["content_type"] == "video/mp4"
    assert found["poster"] is None or found["poster"].startswith("http")
    whole = httpx.get(found["url"], timeout=30)
    assert whole.status_code == 200
    video = describe(whole.content)
    assert video["video"] == "h264" and video["pixels"] == "yuv420p" and video["audio"] == ["aac"]
    assert (video["width"], video["height"]) == (1458, 1080)
    assert video["rotation"] == 90  # the player turns it, as it turns the original
    assert video["faststart"] and video["brand"] != b"qt  "
    part = httpx.get(found["url"], headers={"range": "bytes=100-299"}, timeout=30)
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-299/{len(whole.content)}"
    assert part.content == whole.content[100:300]
    row = http.get(f"/api/photos/{photo_id}").json()
    assert row["playback"] == "completed" and row["has_edit"] is False
    other = accounts.user()
    assert other.http.get(f"/api/photos/{photo_id}/playback").status_code == 404


@SQLITE_ONLY
def test_a_live_photo_motion_plays_muted_from_its_own_rendition(server: Server, accounts: Accounts) -> None:
    device = accounts.device()
    from tests.helpers.thumbnails import jpeg

    live = make_video(frames=6)
    photo_id = send_video(device, jpeg(320, 240), "IMG_0001.HEIC", live=live)
    http = device.owner.http
    found = playback_when_ready(http, photo_id, "live_video")
    video = describe(httpx.get(found["url"], timeout=30).content)
    assert video["video"] == "h264" and video["audio"] == [] and video["faststart"]
    row = http.get(f"/api/photos/{photo_id}").json()
    assert row["live_playback"] == "completed" and row["playback"] is None
    still = http.get(f"/api/photos/{photo_id}/playback")
    assert still.status_code == 404
    assert still.json()["error"]["details"]["state"] == "none"


@SQLITE_ONLY
def test_an_h264_mp4_needs_no_rendition_and_plays_as_it_is(server: Server, accounts: Accounts) -> None:
    device = accounts.device()
    data = make_video(codec="libx264", container="mp4", frames=6)
    photo_id = send_video(device, data, "clip.mp4")
    http = device.owner.http
    found = playback_when_ready(http, photo_id)
    assert found["content_type"] == "video/mp4"
    assert httpx.get(found["url"], timeout=30).content == data
    assert http.get(f"/api/photos/{photo_id}").json()["playback"] == "not_needed"


@SQLITE_ONLY
def test_playback_answers_why_it_is_missing(server: Server, accounts: Accounts) -> None:
    device = accounts.device()
    http = device.owner.http
    record = {"photos_uuid": str(uuid.uuid4()).upper(), "filename": "IMG_2.MOV", "media_type": "video"}
    created = device.http.post("/api/sync/photos", json={"photos": [record]}).json()["results"][0]
    waiting = http.get(f"/api/photos/{created['id']}/playback")
    assert waiting.status_code == 404
    assert waiting.json()["error"]["code"] == "playback_not_ready"
    assert waiting.json()["error"]["details"] == {"state": "pending"}
    assert http.get(f"/api/photos/{created['id']}").json()["playback"] == "pending"
    no_live = http.get(f"/api/photos/{created['id']}/playback", params={"kind": "live_video"})
    assert no_live.status_code == 404 and no_live.json()["error"]["details"] == {"state": "none"}
    bad = http.get(f"/api/photos/{created['id']}/playback", params={"kind": "edited"})
    assert bad.status_code == 422 and "error" in bad.json()


@pytest.fixture(scope="module")
def one_attempt(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = launch(tmp_path_factory.mktemp("playback"), "one-attempt", {"THUMBNAIL_MAX_ATTEMPTS": "1"})
    yield server
    server.stop()


def test_a_video_that_cannot_be_decoded_ends_failed_with_its_reason(
    one_attempt: Server, tmp_path: Path
) -> None:
    accounts = Accounts(one_attempt)
    try:
        device = accounts.device()
        broken = b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00" + b"not a movie" * 100
        photo_id = send_video(device, broken, "IMG_3.MOV")

        def failed() -> dict[str, Any] | None:
            answer = device.owner.http.get(f"/api/photos/{photo_id}/playback")
            body = answer.json()["error"]
            return body if body["details"]["state"] == "failed" else None

        error = wait_for(failed, 60, "the playback to fail")
        assert error["code"] == "playback_failed" and "not a readable video" in error["details"]["error"]
        assert device.owner.http.get(f"/api/photos/{photo_id}").json()["playback"] == "failed"
    finally:
        accounts.close()


SQLITE_AND_POSTGRES = pytest.mark.parametrize("server", ["sqlite", "postgres"], indirect=True)


def declare_edit(device: Device, photo_id: str, kind: str, data: bytes, **declared: str) -> None:
    """Declare (with what the photo declared before) and upload the edited version (`edited`,
    `edited_live_video`) of a photo sent before."""
    row = device.owner.http.get(f"/api/photos/{photo_id}").json()
    record: dict[str, Any] = {
        "photos_uuid": row["photos_uuid"],
        "filename": row["filename"],
        "media_type": row["media_type"],
        "taken_at": "2024-05-01T10:00:00+00:00",
        f"{kind}_sha256": hashlib.sha256(data).hexdigest(),
        f"{kind}_filename": "FullSizeRender.mov",
        **declared,
    }
    assert device.http.post("/api/sync/photos", json={"photos": [record]}).status_code == 200
    put(device, row["photos_uuid"], kind, data)


def played_width(http: httpx.Client, photo_id: str, expected: str, **params: str) -> dict[str, Any]:
    """The playback answer once it is of the `expected` version, with the width of its video."""

    def ready() -> dict[str, Any] | None:
        answer = http.get(f"/api/photos/{photo_id}/playback", params=params)
        if answer.status_code != 200 or answer.json()["version"] != expected:
            assert answer.status_code in (200, 404), answer.text
            return None
        found = dict(answer.json())
        found["video"] = describe(httpx.get(found["url"], timeout=30).content)
        return found

    return dict(wait_for(ready, 90, f"the {expected} playback of {photo_id} {params}", every=0.3))


@SQLITE_AND_POSTGRES
def test_an_edited_video_plays_its_edit_and_its_original_on_asking(
    server: Server, accounts: Accounts
) -> None:
    device = accounts.device()
    http = device.owner.http
    photo_id = send_video(device, make_video(width=320, height=240, frames=4), "IMG_0001.MOV")
    declare_edit(device, photo_id, "edited", make_video(width=256, height=144, frames=4))
    edited = played_width(http, photo_id, "edited")
    assert (edited["video"]["width"], edited["video"]["height"]) == (256, 144)
    assert edited["video"]["video"] == "h264" and edited["video"]["audio"] == ["aac"]
    original = played_width(http, photo_id, "original", version="original")
    assert (original["video"]["width"], original["video"]["height"]) == (320, 240)
    assert http.get(f"/api/photos/{photo_id}").json()["has_edit"] is True
    bad = http.get(f"/api/photos/{photo_id}/playback", params={"version": "newest"})
    assert bad.status_code == 422 and "error" in bad.json()


@SQLITE_AND_POSTGRES
def test_an_edited_live_photo_moves_with_its_edited_motion_muted(server: Server, accounts: Accounts) -> None:
    from tests.helpers.thumbnails import jpeg

    device = accounts.device()
    http = device.owner.http
    live = make_video(width=320, height=240, frames=4)
    photo_id = send_video(device, jpeg(320, 240), "IMG_0001.HEIC", live=live)
    edit = make_video(width=256, height=144, frames=4)
    live_sha256 = hashlib.sha256(live).hexdigest()
    declare_edit(device, photo_id, "edited_live_video", edit, live_video_sha256=live_sha256)
    edited = played_width(http, photo_id, "edited", kind="live_video")
    assert (edited["video"]["width"], edited["video"]["height"]) == (256, 144)
    assert edited["video"]["audio"] == []  # the motion plays muted, edited or not
    original = played_width(http, photo_id, "original", kind="live_video", version="original")
    assert (original["video"]["width"], original["video"]["height"]) == (320, 240)
    still = http.get(f"/api/photos/{photo_id}/playback")
    assert still.status_code == 404 and still.json()["error"]["details"]["state"] == "none"


def test_the_photo_json_reports_the_playback_of_the_version_shown(one_attempt: Server) -> None:
    """An edit whose rendition failed: the photo's `playback` (and `live_playback`) says so, as
    /playback does, though the original's rendition is made."""
    from tests.helpers.thumbnails import jpeg

    broken = b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00" + b"not a movie" * 100
    accounts = Accounts(one_attempt)
    try:
        device = accounts.device()
        http = device.owner.http
        video = send_video(device, make_video(width=320, height=240, frames=4), "IMG_0004.MOV")
        live = make_video(width=320, height=240, frames=4)
        still = send_video(device, jpeg(320, 240), "IMG_0005.HEIC", live=live)
        played_width(http, video, "original")
        played_width(http, still, "original", kind="live_video")
        assert http.get(f"/api/photos/{video}").json()["playback"] == "completed"
        declare_edit(device, video, "edited", broken)
        live_sha256 = hashlib.sha256(live).hexdigest()
        declare_edit(device, still, "edited_live_video", broken, live_video_sha256=live_sha256)

        def failed(photo_id: str, kind: str) -> bool:
            answer = http.get(f"/api/photos/{photo_id}/playback", params={"kind": kind})
            return answer.status_code == 404 and answer.json()["error"]["details"]["state"] == "failed"

        wait_for(lambda: failed(video, "original") and failed(still, "live_video"), 60, "the edits to fail")
        assert http.get(f"/api/photos/{video}").json()["playback"] == "failed"
        assert http.get(f"/api/photos/{still}").json()["live_playback"] == "failed"
        listed = {p["id"]: p for p in http.get("/api/photos").json()["photos"]}
        assert listed[video]["playback"] == "failed" and listed[still]["live_playback"] == "failed"
        assert played_width(http, video, "original", version="original")["video"]["width"] == 320
    finally:
        accounts.close()


def test_a_removed_videos_rendition_waits_without_being_queued_again_until_it_is_restored(
    tmp_path: Path,
) -> None:
    """The worker skips a job of a removed photo; the reconciler leaves its pending rendition
    alone (it re-queued it every THUMBNAIL_STUCK_AFTER, forever) until a restore brings it back."""
    server = launch(tmp_path, "removed", {"THUMBNAIL_STUCK_AFTER": "2s"}, ("--no-worker",))
    worker = None
    try:
        device = Accounts(server).device()
        http = device.owner.http
        photo_id = send_video(device, make_video(width=320, height=240, frames=4), "IMG_0001.MOV")
        gone = {"photos_uuids": [http.get(f"/api/photos/{photo_id}").json()["photos_uuid"]]}
        assert device.http.post("/api/sync/photos/deleted", json=gone).json() == {"deleted": 1}
        worker = start_worker(server.env, tmp_path / "worker.log")
        wait_for(lambda: "is stale; skipped" in worker.log_text(), 30, "the queued job to be skipped")
        time.sleep(6)  # three times STUCK_AFTER, the reconciler looking every second
        assert "playback job(s) re-queued" not in worker.log_text()
        assert http.post(f"/api/photos/{photo_id}/restore").status_code == 200
        assert playback_when_ready(http, photo_id)["version"] == "original"
        assert "reconciler: 1 playback job(s) re-queued" in worker.log_text()
    finally:
        if worker is not None:
            worker.stop()
        server.stop()
