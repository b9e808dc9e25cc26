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
from playwright.sync_api import Locator, Page, expect

from tests.helpers.browser import chromium, new_context, sign_in, snap
from tests.helpers.publish import jpeg, photo_ids, send_photo, unzip
from tests.helpers.records import photo_record
from tests.helpers.s3 import ensure_s3_server, raw_client
from tests.helpers.server import (
    Accounts,
    Server,
    base_env,
    create_admin,
    free_port,
    fresh_postgres_database,
    start_server,
)
from tests.helpers.thumbnails import start_worker

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
    """The objects under `prefix`, read behind the server's back from its store (a folder or S3).
    One the worker's sweep deletes between the listing and the read is left out."""
    if server.backend == "s3":
        client = raw_client(ensure_s3_server())
        bucket = server.env["MINIO_BUCKET"]
        listed = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        keys = [o["Key"] for page in listed for o in page.get("Contents", [])]
        found = {}
        for key in keys:
            try:
                found[key] = client.get_object(Bucket=bucket, Key=key)["Body"].read()
            except client.exceptions.NoSuchKey:
                continue
        return found
    root = server.data_dir / "objects"
    stored = {}
    for path in (root / prefix).parent.rglob("*"):
        key = str(path.relative_to(root))
        if key.startswith(prefix) and path.is_file():
            try:
                stored[key] = path.read_bytes()
            except FileNotFoundError:
                continue
    return stored


def _overwrite(server: Server, key: str, data: bytes) -> None:
    """Replace an object behind the server's back (a store fault, then its repair)."""
    if server.backend == "s3":
        raw_client(ensure_s3_server()).put_object(Bucket=server.env["MINIO_BUCKET"], Key=key, Body=data)
    else:
        (server.data_dir / "objects" / key).write_bytes(data)


def _failure_notes(server: Server, owner_id: str) -> list[str]:
    return sorted(k for k in _stored(server, f"renditions/{owner_id}/") if k.endswith("-failed.txt"))


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


def test_the_download_state_says_rendering_then_ready_and_never_streams(owners: Accounts) -> None:
    device, ids, set_id = _set_of(owners, THRESHOLD + 1, title="Quay")
    http = device.owner.http
    state = f"/api/publish-sets/{set_id}/download/state?preset=web-2048"
    first = http.get(state)
    assert first.status_code == 200, first.text
    assert first.json() == {"state": "rendering", "done": 0, "total": THRESHOLD + 1}
    deadline = time.monotonic() + 120
    while (answer := http.get(state).json())["state"] == "rendering" and time.monotonic() < deadline:
        time.sleep(0.3)  # queued once by the first answer: the queue renders meanwhile
    assert answer == {"state": "ready", "done": THRESHOLD + 1, "total": THRESHOLD + 1}
    made = http.post("/api/publish-sets", json={"title": "Slip", "photo_ids": ids[:THRESHOLD]})
    small = http.get(f"/api/publish-sets/{made.json()['id']}/download/state?preset=square-1080")
    assert small.json() == {"state": "ready", "done": THRESHOLD, "total": THRESHOLD}  # streams as made

    assert owners.user().http.get(state).status_code == 404
    unknown = http.get(f"/api/publish-sets/{set_id}/download/state?preset=nope")
    assert unknown.status_code == 422 and unknown.json()["error"]["code"] == "unknown_preset"
    zip_asked = f"GET /api/publish-sets/{set_id}/download "
    assert zip_asked not in owners.server.log_text()  # no zip was made for all that


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


def test_a_failure_note_goes_with_the_zips_retry_and_a_repaired_photo_renders_again(owners: Accounts) -> None:
    device, ids, set_id = _set_of(owners, 4, title="Dock")
    http = device.owner.http
    owner_id = http.get("/api/auth/me").json()["id"]
    uid = http.get(f"/api/photos/{ids[1]}").json()["photos_uuid"]
    originals = _stored(owners.server, f"originals/{owner_id}/")
    key = next(k for k in originals if uid in k and not k.endswith(".json"))
    _overwrite(owners.server, key, b"not a picture any more " * 64)  # the stored file goes bad
    url = f"/api/publish-sets/{set_id}/download?preset=square-1080"
    assert http.get(url).status_code == 202
    _, data = _until_zip(http, url)  # the queue could not make photo 2: its note counted it as done
    files = unzip(data)
    assert sorted(files) == ["REPORT.txt", "dock-01.jpg", "dock-03.jpg", "dock-04.jpg"]
    assert "dock-02.jpg" in files["REPORT.txt"].decode()  # the zip tried again, and said so
    assert _failure_notes(owners.server, owner_id) == []  # that retry took the note away

    _overwrite(owners.server, key, originals[key])  # repaired: the next download queues it again
    again = http.get(url)
    assert again.status_code == 202 and again.json() == {"state": "rendering", "done": 3, "total": 4}
    _, data = _until_zip(http, url)
    assert sorted(unzip(data)) == [f"dock-0{n}.jpg" for n in range(1, 5)]
    assert _failure_notes(owners.server, owner_id) == []
    assert len(_cached(owners.server, owner_id)) == 4


def _queued(server: Server) -> int:
    return int(httpx.get(f"{server.url}/health").json()["queue_jobs"]["queued"])


def test_two_api_processes_and_a_restarted_one_queue_a_large_set_once(tmp_path: Path) -> None:
    """Two `serve --no-worker` on one database, store and queue; the worker starts last."""
    with fresh_postgres_database("ia_render_ahead") as url:
        env = base_env(tmp_path / "shared") | {"DATABASE_URL": url, "PUBLISH_ASYNC_PHOTOS": str(THRESHOLD)}
        create_admin(env)
        first, second = (
            Server(
                "",
                env | {"IMAGE_ASSISTANT_API_PORT": str(free_port())},
                tmp_path / name,
                name,
                None,
                None,
                ("--no-worker",),
            )
            for name in ("first", "second")
        )
        accounts = Accounts(first)
        worker = None
        try:
            first.start()
            second.start()
            device, _, set_id = _set_of(accounts, 5, title="Harbour")
            url = f"/api/publish-sets/{set_id}/download?preset=square-1080"
            before = _queued(first)  # the photos' thumbnails
            rendering = {"state": "rendering", "done": 0, "total": 5}
            on_first = device.owner.http
            on_second = second.client(device.owner.token)
            answer = on_first.get(url)
            assert (answer.status_code, answer.json()) == (202, rendering)
            assert _queued(first) == before + 5  # one job per rendition
            answer = on_second.get(url)
            assert (answer.status_code, answer.json()) == (202, rendering)
            assert _queued(second) == before + 5  # the other process knew they were queued

            first.stop()
            first.start()
            answer = on_first.get(url)
            assert (answer.status_code, answer.json()) == (202, rendering)
            assert _queued(first) == before + 5  # and so did the restarted one

            worker = start_worker(env, tmp_path / "worker.log")
            progress, data = _until_zip(on_second, url)
            assert sorted(unzip(data)) == [f"harbour-0{n}.jpg" for n in range(1, 6)]
            on_second.close()
        finally:
            accounts.close()
            for process in (worker, first, second):
                if process is not None:
                    process.stop()
        logs = first.log_text() + second.log_text() + (worker.log_text() if worker else "")
        assert "Traceback" not in logs, logs[-4000:]


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


def _zip_requests(server: Server, set_id: str) -> int:
    """How many requests the server took on the set's download route (its access log)."""
    return server.log_text().count(f"GET /api/publish-sets/{set_id}/download ")


def _save_zip(page: Page, path: str, preset: str, saved: Path) -> Locator:
    """Ask the set page at `path` for its zip and save it; the status line it showed."""
    page.goto(path)
    form = page.locator("form.download")
    form.get_by_label("Preset").select_option(preset)
    status = form.locator(".download-status")
    with page.expect_download(timeout=120_000) as download:
        form.get_by_role("button", name="Download zip").click()
    download.value.save_as(saved)
    return status


@pytest.mark.parametrize("large_sets_server", ["s3"], indirect=True)
def test_the_set_page_shows_the_progress_then_fetches_the_zip_once(owners: Accounts, tmp_path: Path) -> None:
    device, ids, set_id = _set_of(owners, 6, title="Pier")
    owner = device.owner
    small = owner.http.post("/api/publish-sets", json={"title": "Jetty", "photo_ids": ids[:THRESHOLD]})
    with chromium() as (_, browser):
        context = new_context(browser, owners.server.url)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
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
        assert _zip_requests(owners.server, set_id) == 1  # asked for once: by the browser's download

        status = _save_zip(page, f"/sets/{small.json()['id']}", "web-2048", tmp_path / "jetty.zip")
        with zipfile.ZipFile(tmp_path / "jetty.zip") as archive:
            assert sorted(archive.namelist()) == [f"jetty-0{n}.jpg" for n in range(1, 4)]
        expect(status.locator("progress")).to_have_count(0)  # a small set streams at once
        assert _zip_requests(owners.server, small.json()["id"]) == 1  # and once for a small set too
        context.close()
        assert errors == []
