"""A large set's download: 202 with the progress while the queue renders, then the zip copied
from the cache; small sets still stream at once. On a server of its own whose threshold
(PUBLISH_ASYNC_PHOTOS) is 3 photos, on SQLite, PostgreSQL and the real S3 server."""

from __future__ import annotations

import re
import secrets
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.helpers.browser import chromium, new_context, sign_in, snap
from tests.helpers.publish import jpeg, photo_ids, send_photo, unzip
from tests.helpers.records import photo_record
from tests.helpers.s3 import ensure_s3_server, raw_client
from tests.helpers.server import Accounts, Server, fresh_postgres_database, start_server

THRESHOLD = 3


@pytest.fixture(scope="module", params=["sqlite", "postgres", "s3"])
def large_sets_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    extra = {"PUBLISH_ASYNC_PHOTOS": str(THRESHOLD)}
    with fresh_postgres_database("ia_large_sets") as url:
        if request.param == "postgres":
            extra["DATABASE_URL"] = url
        elif request.param == "s3":
            extra |= request.getfixturevalue("s3_env") | {"MINIO_BUCKET": f"ia-large-{secrets.token_hex(4)}"}
        server = start_server(tmp_path_factory.mktemp("large-sets"), request.param, extra)
        try:
            yield server
        finally:
            server.stop()
        log = server.log_text()
        assert "Traceback" not in log, f"server logged a traceback:\n{log[-4000:]}"


@pytest.fixture
def owners(large_sets_server: Server) -> Iterator[Accounts]:
    made = Accounts(large_sets_server)
    yield made
    made.close()


def _set_of(accounts: Accounts, count: int, *, title: str = "Market") -> tuple[Any, list[str], str]:
    device = accounts.device()
    records = [send_photo(device, jpeg(2400, 1600, colour=(20 * i, 100, 180))) for i in range(count)]
    ids = photo_ids(device, records)
    made = device.owner.http.post("/api/publish-sets", json={"title": title, "photo_ids": ids})
    assert made.status_code == 201, made.text
    return device, ids, made.json()["id"]


def _until_zip(http: httpx.Client, url: str, *, timeout: float = 120) -> tuple[list[dict[str, Any]], bytes]:
    """Every 202 body on the way, then the zip."""
    progress: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = http.get(url)
        if answer.status_code == 200:
            assert answer.headers["content-type"] == "application/zip"
            return progress, answer.content
        assert answer.status_code == 202, answer.text
        assert answer.headers["retry-after"] == "2"
        progress.append(answer.json())
        time.sleep(0.3)
    raise AssertionError(f"still rendering after {timeout} s: {progress[-3:]}")


def _stored(server: Server, prefix: str) -> dict[str, bytes]:
    """The objects under `prefix`, read behind the server's back from its store (a folder or S3)."""
    if server.backend == "s3":
        client = raw_client(ensure_s3_server())
        bucket = server.env["MINIO_BUCKET"]
        listed = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        keys = [o["Key"] for page in listed for o in page.get("Contents", [])]
        return {k: client.get_object(Bucket=bucket, Key=k)["Body"].read() for k in keys}
    root = server.data_dir / "objects"
    files = [p for p in (root / prefix).parent.rglob("*") if p.is_file()]
    stored = {str(p.relative_to(root)): p.read_bytes() for p in files}
    return {key: data for key, data in stored.items() if key.startswith(prefix)}


def _cached(server: Server, owner_id: str) -> dict[str, bytes]:
    """The owner's cached renditions (not the notes of failures beside them)."""
    return {k: v for k, v in _stored(server, f"renditions/{owner_id}/").items() if k.endswith(".jpg")}


def test_a_large_set_renders_in_the_queue_then_downloads_from_the_cache(owners: Accounts) -> None:
    device, ids, set_id = _set_of(owners, 5)
    http = device.owner.http
    owner_id = http.get("/api/auth/me").json()["id"]
    url = f"/api/publish-sets/{set_id}/download?preset=square-1080"
    first = http.get(url)
    assert first.status_code == 202, first.text
    assert first.json() == {"state": "rendering", "done": 0, "total": 5}  # nothing was made before
    progress, data = _until_zip(http, url)
    done = [first.json()["done"], *(p["done"] for p in progress)]
    assert done == sorted(done) and all(p["total"] == 5 and p["state"] == "rendering" for p in progress)
    files = unzip(data)
    assert sorted(files) == [f"market-0{n}.jpg" for n in range(1, 6)]
    cached = _cached(owners.server, owner_id)
    assert len(cached) == 5  # the queue made every rendition, once per photo
    assert sorted(files.values()) == sorted(cached.values())  # the zip is the cache's bytes

    # The same GET now streams at once; another preset renders again.
    assert http.get(url).status_code == 200
    assert http.get(f"/api/publish-sets/{set_id}/download?preset=web-2048").status_code == 202


def test_small_sets_stream_and_errors_come_before_any_rendering(owners: Accounts) -> None:
    device, ids, big_id = _set_of(owners, THRESHOLD + 1, title="Big")
    http = device.owner.http
    made = http.post("/api/publish-sets", json={"title": "Small", "photo_ids": ids[:THRESHOLD]})
    small = http.get(f"/api/publish-sets/{made.json()['id']}/download?preset=square-1080")
    assert small.status_code == 200 and len(unzip(small.content)) == THRESHOLD

    stranger = owners.user().http
    owner_id = http.get("/api/auth/me").json()["id"]
    before = _cached(owners.server, owner_id)
    assert len(before) == THRESHOLD  # the small set's, made as it streamed
    assert stranger.get(f"/api/publish-sets/{big_id}/download?preset=web-2048").status_code == 404
    unknown = http.get(f"/api/publish-sets/{big_id}/download?preset=nope")
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "unknown_preset"
    assert _cached(owners.server, owner_id) == before  # nothing queued, nothing made


def test_photos_without_an_original_or_that_cannot_be_made_count_as_done(owners: Accounts) -> None:
    device, ids, set_id = _set_of(owners, 3, title="Mixed")
    http = device.owner.http
    broken = send_photo(device, b"this is not a picture " * 64)  # stored, but no decoder reads it
    waiting = photo_record()  # its original is not on the server yet
    assert device.http.post("/api/sync/photos", json={"photos": [waiting]}).status_code == 200
    more = photo_ids(device, [broken, waiting])
    assert http.put(f"/api/publish-sets/{set_id}", json={"photo_ids": [*ids, *more]}).status_code == 200
    url = f"/api/publish-sets/{set_id}/download?preset=portrait-1080x1350"
    first = http.get(url)
    assert first.status_code == 202 and first.json() == {"state": "rendering", "done": 1, "total": 5}
    _, data = _until_zip(http, url)  # the broken photo's failure counts as done: the zip comes
    files = unzip(data)
    assert sorted(files) == ["REPORT.txt", *(f"mixed-0{n}.jpg" for n in range(1, 4))]
    report = files["REPORT.txt"].decode()
    assert "mixed-04.jpg" in report and "not made" in report
    assert "mixed-05.jpg" in report and "missing" in report


def test_a_large_set_without_any_original_is_409_before_the_queue(owners: Accounts) -> None:
    device = owners.device()
    records = [photo_record() for _ in range(THRESHOLD + 1)]
    assert device.http.post("/api/sync/photos", json={"photos": records}).status_code == 200
    ids = photo_ids(device, records)
    set_id = device.owner.http.post("/api/publish-sets", json={"title": "Empty", "photo_ids": ids}).json()[
        "id"
    ]
    answer = device.owner.http.get(f"/api/publish-sets/{set_id}/download?preset=web-2048")
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "originals_missing"


@pytest.mark.parametrize("large_sets_server", ["s3"], indirect=True)
def test_the_set_page_shows_the_progress_then_saves_the_zip(owners: Accounts, tmp_path: Path) -> None:
    device, ids, set_id = _set_of(owners, 6, title="Pier")
    owner = device.owner
    with chromium() as (_, browser):
        context = new_context(browser, owners.server.url)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        answers: list[int] = []
        page.on("response", lambda r: answers.append(r.status) if "/download?" in r.url else None)
        sign_in(page, owner.username, owner.password, path=f"/sets/{set_id}")
        form = page.locator("form.download")
        form.get_by_label("Preset").select_option("story-1080x1920")
        status = form.locator(".download-status")
        with page.expect_download(timeout=120_000) as download:
            form.get_by_role("button", name="Download zip").click()
            expect(status.locator("progress")).to_have_attribute("max", "6")
            expect(status).to_contain_text(re.compile(r"Rendering \d of 6 photos"))
            snap(page, "publish-download-progress")
        saved = tmp_path / "pier.zip"
        download.value.save_as(saved)
        with zipfile.ZipFile(saved) as archive:
            assert sorted(archive.namelist()) == [f"pier-0{n}.jpg" for n in range(1, 7)]
        expect(status).to_contain_text("Ready: downloading.")
        expect(status.locator("progress")).to_have_js_property("value", 6)
        assert answers[0] == 202 and answers[-1] == 200  # asked while rendering, then the zip
        context.close()
        assert errors == []
