"""Publishing as a person does it, in Chromium: from "select 25 photos" to "zip saved".

    .venv/bin/python bench/publish_flow.py [--runs 3] [--photos 25]

A real `image-assistant serve` (SQLite, local store, thumbnail worker embedded) gets PHOTOS
12-MP JPEGs (4032x3024, made here with grain so they code like photos: 3-6 MB each) through
the sync API, and makes their thumbnails. Then, in Debian's Chromium (headless, Playwright),
with the grid already showing, the clock runs from the click on "Select" through: select
mode on, the first photo, shift-click the last (all PHOTOS), "Create set", choose web-2048 on
the set page, "Download zip", until the download is saved to disk. "first": the store's
renditions are deleted before the run (nothing cached, every photo rendered while the zip
streams); "cached": the same photos again in a new set (the zip copies from the cache).
Each run makes a new set; medians over RUNS runs. The machine is shared: the load average
is printed with every figure.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO))

from harness import Owner, Server, heading, load_average, owner_with_device, running_server  # noqa: E402
from playwright.sync_api import Browser, Page, expect  # noqa: E402

from tests.helpers.browser import chromium, new_context  # noqa: E402

PRESET = "web-2048"


def make_photo(i: int) -> bytes:
    """A 4032x3024 JPEG with a gradient and grain (sizes like a phone's, 3-6 MB)."""
    import pyvips

    base = pyvips.Image.xyz(4032, 3024)
    red = base[0] * (0.03 + i * 0.002) + base[1] * 0.04
    image = red.bandjoin([base[1] * 0.05, base[0] * 0.02 + 30 + i])
    image = (image + pyvips.Image.gaussnoise(4032, 3024, sigma=9)).cast("uchar").copy(interpretation="srgb")
    data: bytes = image.jpegsave_buffer(Q=90)
    return data


def upload(server: Server, token: str, photos: int) -> int:
    """PHOTOS photos of one morning through the sync API; their total size in bytes."""
    start = datetime(2026, 11, 1, 9, tzinfo=UTC)
    total = 0
    with server.client(token, timeout=120) as http:
        for i in range(photos):
            body = make_photo(i)
            total += len(body)
            sha = hashlib.sha256(body).hexdigest()
            photos_uuid = str(uuid.uuid4()).upper()
            row = {
                "photos_uuid": photos_uuid,
                "filename": f"IMG_{i:04d}.JPG",
                "content_type": "image/jpeg",
                "media_type": "photo",
                "width": 4032,
                "height": 3024,
                "taken_at": (start + timedelta(minutes=i)).isoformat(),
                "checksum_sha256": sha,
                "file_size": len(body),
            }
            response = http.post("/api/sync/photos", json={"photos": [row]})
            assert response.status_code == 200, response.text
            response = http.put(
                f"/api/sync/photos/{photos_uuid}/original", content=body, headers={"x-content-sha256": sha}
            )
            assert response.status_code == 200, response.text
    return total


def wait_thumbnails(server: Server, token: str) -> None:
    with server.client(token) as http:
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            thumbs = http.get("/api/sync/status").json()["thumbnails"]
            if thumbs["pending"] + thumbs["processing"] == 0:
                return
            time.sleep(1)
    raise RuntimeError("thumbnails not made in 15 minutes")


@dataclass
class Flow:
    set_made: float  # seconds from "Select" to the set page
    total: float  # seconds from "Select" to the zip saved
    load: str


def one_flow(page: Page, photos: int, saved: Path, title: str) -> Flow:
    page.goto("/")
    tiles = page.locator(".tile")
    expect(tiles).to_have_count(photos)
    start = time.perf_counter()
    page.get_by_role("button", name="Select").click()
    tiles.nth(0).click()
    tiles.nth(photos - 1).click(modifiers=["Shift"])
    expect(page.locator(".select-bar .count")).to_have_text(f"{photos} photos selected")
    page.get_by_label("New set title").fill(title)
    page.get_by_role("button", name="Create set").click()
    page.wait_for_url(re.compile(r"/sets/[0-9a-f-]{36}$"))
    form = page.locator("form.download")
    form.get_by_label("Preset").select_option(PRESET)
    set_made = time.perf_counter() - start
    with page.expect_download(timeout=600_000) as download:
        form.get_by_role("button", name="Download zip").click()
    download.value.save_as(saved)
    total = time.perf_counter() - start
    with zipfile.ZipFile(saved) as archive:
        assert len(archive.namelist()) == photos, archive.namelist()
    return Flow(set_made, total, load_average())


def forget_renditions(server: Server) -> None:
    data_dir = Path(server.env["IMAGE_ASSISTANT_DATA_DIR"])
    shutil.rmtree(data_dir / "objects" / "renditions", ignore_errors=True)


def measure(browser: Browser, server: Server, owner: Owner, photos: int, runs: int, work: Path) -> None:
    context = new_context(browser, server.url)
    context.set_default_timeout(120_000)
    page = context.new_page()
    context.add_cookies([{"name": "ia_session", "value": owner.user_token, "url": server.url}])
    results: dict[str, list[Flow]] = {"first": [], "cached": []}
    for run in range(runs):
        for kind in ("first", "cached"):
            if kind == "first":
                forget_renditions(server)
            flow = one_flow(page, photos, work / f"{kind}-{run}.zip", f"Shoot {run} {kind}")
            results[kind].append(flow)
            print(
                f"   run {run + 1} {kind:6}  set made {flow.set_made:5.2f} s, zip saved {flow.total:6.2f} s"
                f"  ({flow.load})",
                flush=True,
            )
    context.close()
    heading(f"From 'select {photos} photos' to 'zip saved' ({PRESET}), medians of {runs} runs")
    for kind, flows in results.items():
        made = statistics.median(f.set_made for f in flows)
        total = statistics.median(f.total for f in flows)
        print(f"   {kind:6}  set made {made:5.2f} s, zip saved {total:6.2f} s")
    print(f"   at the end: {load_average()} (shared with other work: noisy)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--photos", type=int, default=25)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ia-bench-flow-") as tmp:
        work = Path(tmp)
        with running_server(work / "data", {"LOG_LEVEL": "WARNING"}) as server:
            owner = owner_with_device(server)
            start = time.perf_counter()
            total = upload(server, owner.device_token, args.photos)
            wait_thumbnails(server, owner.user_token)
            print(
                f"   {args.photos} photos, {total / args.photos / 1e6:.1f} MB each on average, sent and "
                f"thumbnailed in {time.perf_counter() - start:.0f} s ({load_average()})",
                flush=True,
            )
            with chromium() as (_, browser):
                measure(browser, server, owner, args.photos, args.runs, work)


if __name__ == "__main__":
    main()
