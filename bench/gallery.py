"""The gallery at 10,000 (or 100,000) photos in headless Chromium on loopback: first screen, full
scroll, and a smooth scroll top to bottom (frame times, elements in the page, JS heap).

A fresh `image-assistant serve` (embedded defaults: SQLite, local store, embedded queue) gets
one user with a paired device; the device sends 10,000 photos' metadata through the sync API,
and real JPEG originals for the newest 150, whose thumbnails the server makes (the rest show
placeholders, as photos whose originals have not arrived do). Then, in Debian's Chromium:

- first screen: from navigation start to the frame in which every tile on the first screen is
  painted with its loaded thumbnail (median and worst of several cold page loads);
- full scroll: jumping to the bottom again and again until the grid has shown all 10,000,
  with the duration of every /api/photos page fetch the browser made (Resource Timing, so
  queueing behind thumbnail requests and the browser's own work are included);
- every page as the API served it during those runs (its access log), the figure the
  target is about, and the same pages fetched one at a time over plain HTTP.

Targets (issue 5): first screen under 1 s; every page of the scroll fetched in under 100 ms
at the API. Issue 14, at 100,000 photos (`--photos 100000`): fewer than 3,000 elements in the
page, frame time p95 under 16 ms while scrolling, the page's memory (JS heap) under 300 MB. At
60 Hz every frame interval is at least the display's 16.7 ms, so the frame time is measured
once more in a Chromium without a frame-rate limit or vsync, scrolling 600 px per frame: each
interval is then the frame's own cost.

    .venv/bin/python bench/gallery.py              # 10,000 photos
    .venv/bin/python bench/gallery.py --photos 2000 --runs 3
"""

from __future__ import annotations

import argparse
import hashlib
import io
import random
import re
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests' browser helpers

from harness import (  # noqa: E402
    Owner,
    Server,
    heading,
    median,
    owner_with_device,
    percentile,
    running_server,
    verdict,
)

from tests.helpers.browser import CHROMIUM, CHROMIUM_ARGS, chromium, new_context  # noqa: E402

TARGET_FIRST_SCREEN_MS = 1000.0
TARGET_PAGE_MS = 100.0
WITH_ORIGINALS = 150
SHAPES = [(4032, 3024), (3024, 4032), (4000, 2250), (1080, 1920), (2048, 2048), (4032, 3024)]

# Resolves, in the page, at the first frame where every tile on screen shows its picture.
FIRST_SCREEN_JS = """() => new Promise(resolve => {
    const check = () => {
        const tiles = [...document.querySelectorAll('.tile')].filter(t => {
            const b = t.getBoundingClientRect();
            return b.bottom > 0 && b.top < innerHeight;
        });
        const painted = tiles.length > 0 && tiles.every(t => {
            const img = t.querySelector('img');
            return !img || (img.complete && img.naturalWidth > 0);
        });
        if (painted) requestAnimationFrame(() => resolve({ms: performance.now(), tiles: tiles.length,
            images: tiles.filter(t => t.querySelector('img')).length}));
        else requestAnimationFrame(check);
    };
    check();
})"""

JUMP_JS = """() => {
    window.scrollTo(0, document.documentElement.scrollHeight);
    return document.querySelector('.grid-end.is-done') !== null;
}"""

RESULT_JS = """() => ({
    tiles: Number(document.querySelector('.grid-end').dataset.total),
    unique: Number(document.querySelector('.grid-end').dataset.total),
    nodes: document.getElementsByTagName('*').length,
    pages: performance.getEntriesByType('resource')
        .filter(e => e.name.includes('/api/photos?'))
        .map(e => e.responseEnd - e.startTime),
})"""


def jpeg(seed: int, width: int, height: int) -> bytes:
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    image = Image.new("RGB", (width, height), tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = rng.randrange(width), rng.randrange(height)
        r = rng.randrange(width // 8, width // 3)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(rng.randrange(256) for _ in range(3)))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def records(count: int) -> list[dict[str, Any]]:
    start = datetime(2021, 1, 1, 8, tzinfo=UTC)
    made = []
    for i in range(count):
        width, height = SHAPES[i % len(SHAPES)]
        made.append(
            {
                "photos_uuid": str(uuid.uuid4()).upper(),
                "filename": f"IMG_{i:05d}.JPG",
                "content_type": "image/jpeg",
                "media_type": "photo",
                "width": width,
                "height": height,
                "taken_at": (start + timedelta(minutes=150 * i)).isoformat(),
            }
        )
    return made


def load_library(server: Server, owner: Owner, count: int) -> None:
    rows = records(count)
    newest = rows[-WITH_ORIGINALS:]
    bodies = {}
    for i, row in enumerate(newest):
        body = jpeg(i, row["width"] // 4, row["height"] // 4)
        row["width"], row["height"] = row["width"] // 4, row["height"] // 4
        row["checksum_sha256"] = hashlib.sha256(body).hexdigest()
        row["file_size"] = len(body)
        bodies[row["photos_uuid"]] = body
    with server.client(owner.device_token) as http:
        for start in range(0, len(rows), 100):
            response = http.post("/api/sync/photos", json={"photos": rows[start : start + 100]})
            assert response.status_code == 200, response.text
        for photos_uuid, body in bodies.items():
            response = http.put(
                f"/api/sync/photos/{photos_uuid}/original",
                content=body,
                headers={"x-content-sha256": hashlib.sha256(body).hexdigest()},
            )
            assert response.status_code == 200, response.text
    with server.client(owner.user_token) as http:
        deadline = time.monotonic() + 600
        while True:
            thumbs = http.get("/api/sync/status").json()["thumbnails"]
            if thumbs["pending"] + thumbs["processing"] == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    print(f"  {count:,} photos, {WITH_ORIGINALS} with originals; thumbnails: {thumbs}")


def logged_page_times(server: Server) -> list[float]:
    """Server-side durations of the timeline pages served so far, from the access log."""
    text = server.log_path.read_text(errors="replace")
    return [float(ms) for ms in re.findall(r"GET /api/photos 200 ([0-9.]+)ms", text)]


def api_pages(server: Server, owner: Owner) -> list[float]:
    """Every timeline page over plain HTTP, as the gallery asks for them (limit 100)."""
    timings = []
    with server.client(owner.user_token) as http:
        cursor = None
        while True:
            params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
            started = time.perf_counter()
            page = http.get("/api/photos", params=params).json()
            timings.append((time.perf_counter() - started) * 1000)
            cursor = page["next_cursor"]
            if not cursor:
                return timings


def scroll_to_end(page: Any) -> dict[str, Any]:
    """Jump to the bottom every frame or so until the grid has shown everything."""
    started = page.evaluate("performance.now()")
    while not page.evaluate(JUMP_JS):
        page.wait_for_timeout(16)
    result: dict[str, Any] = page.evaluate(RESULT_JS)
    result["ms"] = page.evaluate("performance.now()") - started
    return result


# Records the time between animation frames from now on, and the most elements the page held.
FRAMES_JS = """() => {
    window.__frames = []; window.__nodes = 0;
    let last = performance.now();
    const tick = (now) => {
        window.__frames.push(now - last); last = now;
        window.__nodes = Math.max(window.__nodes, document.getElementsByTagName('*').length);
        if (!window.__stop) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
}"""


def smooth_scroll(page: Any, context: Any) -> dict[str, Any]:
    """Scroll from the top to the bottom as a reader would (wheel steps of 600 px, every frame),
    recording each frame's duration, the most elements in the page and the JS heap at the end."""
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(300)
    page.mouse.move(400, 400)
    page.evaluate(FRAMES_JS)
    started = time.perf_counter()
    for _ in range(200_000):
        if page.evaluate("scrollY + innerHeight >= document.documentElement.scrollHeight - 2"):
            break
        page.mouse.wheel(0, 600)
        page.wait_for_timeout(16)
    seconds = time.perf_counter() - started
    page.evaluate("window.__stop = true")
    frames = page.evaluate("window.__frames")[5:]
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable")
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return {
        "seconds": seconds,
        "frames": frames,
        "nodes": page.evaluate("window.__nodes"),
        "heap_mb": metrics.get("JSHeapUsedSize", 0) / 1e6,
        "heap_total_mb": metrics.get("JSHeapTotalSize", 0) / 1e6,
    }


# Scrolls 600 px in every animation frame to the bottom, recording each frame's interval. Run in a
# Chromium without a frame-rate limit or vsync, a frame comes as soon as the last is done: the
# interval is the frame's own cost (style, layout, paint, the grid's work), not the display's
# 16.7 ms period, which bounds every interval measured at 60 Hz from below.
UNTHROTTLED_JS = """() => new Promise((done) => {
    const frames = []; let nodes = 0; let last = performance.now(); let still = 0; let at = -1;
    const tick = (now) => {
        frames.push(now - last); last = now;
        nodes = Math.max(nodes, document.getElementsByTagName('*').length);
        still = scrollY === at ? still + 1 : 0; at = scrollY;
        if (scrollY + innerHeight >= document.documentElement.scrollHeight - 2 || still > 30) {
            done({ frames: frames.slice(5), nodes });
            return;
        }
        scrollBy(0, 600);
        requestAnimationFrame(tick);
    };
    scrollTo(0, 0);
    requestAnimationFrame(tick);
})"""


def unthrottled_scroll(server: Server, owner: Owner, count: int) -> dict[str, Any]:
    """Every frame's own cost while scrolling top to bottom (after one pass that loads every page)."""
    from playwright.sync_api import sync_playwright

    args = [*CHROMIUM_ARGS, "--disable-frame-rate-limit", "--disable-gpu-vsync"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args, headless=True)
        try:
            context = new_context(browser, server.url)
            context.add_cookies([{"name": "ia_session", "value": owner.user_token, "url": server.url}])
            page = context.new_page()
            page.goto("/", wait_until="commit")
            page.evaluate(FIRST_SCREEN_JS)
            loaded = scroll_to_end(page)
            assert loaded["tiles"] == count, loaded
            result: dict[str, Any] = page.evaluate(UNTHROTTLED_JS)
            context.close()
        finally:
            browser.close()
    return result


def browse(server: Server, owner: Owner, runs: int, count: int) -> tuple[list[float], dict[str, Any]]:
    firsts: list[float] = []
    scroll: dict[str, Any] = {}
    with chromium() as (_, browser):
        for run in range(runs + 1):
            context = new_context(browser, server.url)
            context.add_cookies([{"name": "ia_session", "value": owner.user_token, "url": server.url}])
            context.add_init_script("performance.setResourceTimingBufferSize(100000)")
            page = context.new_page()
            page.goto("/", wait_until="commit")
            first = page.evaluate(FIRST_SCREEN_JS)
            if run:  # the first load warms the server's caches and the browser's compile cache
                firsts.append(first["ms"])
                print(f"  load {run}: first screen {first['ms']:.0f} ms ({first['images']} thumbnails)")
            if run == runs:
                scroll = scroll_to_end(page)
                assert scroll["tiles"] == scroll["unique"] == count, scroll
                scroll["smooth"] = smooth_scroll(page, context)
            context.close()
    return firsts, scroll


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--photos", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5, help="page loads measured (after one warm-up)")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="ia-bench-gallery-") as tmp,
        running_server(Path(tmp) / "data") as server,
    ):
        heading(f"loading {args.photos:,} photos")
        owner = owner_with_device(server)
        load_library(server, owner, args.photos)
        heading("browser: first screen, then scroll to the end")
        firsts, scroll = browse(server, owner, args.runs, args.photos)
        heading("browser without a frame-rate limit: every frame's own cost while scrolling")
        unthrottled = unthrottled_scroll(server, owner, args.photos)
        served = logged_page_times(server)
        direct = api_pages(server, owner)
    pages = scroll["pages"]
    heading("results")
    print(
        f"  first screen painted: median {median(firsts):.0f} ms, worst {max(firsts):.0f} ms "
        f"(target < {TARGET_FIRST_SCREEN_MS:.0f} ms: {verdict(max(firsts) < TARGET_FIRST_SCREEN_MS)})"
    )
    print(
        f"  full scroll through {scroll['tiles']:,} photos: {scroll['ms'] / 1000:.1f} s, "
        f"{len(pages)} pages, each shown once"
    )
    smooth = scroll["smooth"]
    frames = smooth["frames"]
    p95 = percentile(frames, 95)
    print(
        f"  smooth scroll top to bottom ({smooth['seconds']:.0f} s, {len(frames):,} frames): frame time "
        f"median {median(frames):.1f} ms, p95 {p95:.1f} ms (at 60 Hz no interval is under the display's "
        f"16.7 ms; {sum(f > 25 for f in frames):,} frames over 25 ms, a missed refresh)"
    )
    own = unthrottled["frames"]
    own_p95 = percentile(own, 95)
    print(
        f"  the same scroll without a frame-rate limit ({len(own):,} frames, "
        f"{unthrottled['nodes']:,} elements at most): frame cost median {median(own):.1f} ms, "
        f"p95 {own_p95:.1f} ms (target p95 < 16 ms: {verdict(own_p95 < 16)})"
    )
    print(
        f"  elements in the page: at most {smooth['nodes']:,} while scrolling, {scroll['nodes']:,} after the "
        f"jump to the end (target < 3,000: {verdict(max(smooth['nodes'], scroll['nodes']) < 3000)})"
    )
    print(
        f"  JS heap after the scroll: {smooth['heap_mb']:.0f} MB used, {smooth['heap_total_mb']:.0f} MB "
        f"reserved (target < 300 MB: {verdict(smooth['heap_total_mb'] < 300)})"
    )
    print(
        f"  page fetch in the browser: median {median(pages):.1f} ms, p95 {percentile(pages, 95):.1f} ms, "
        f"worst {max(pages):.1f} ms (request to last byte, queueing in the browser included)"
    )
    print(
        f"  page served by the API during the browser runs ({len(served)} pages, access log): "
        f"median {median(served):.1f} ms, p95 {percentile(served, 95):.1f} ms, worst {max(served):.1f} ms "
        f"(target < {TARGET_PAGE_MS:.0f} ms: {verdict(max(served) < TARGET_PAGE_MS)})"
    )
    slow = [f"#{i + 1}: {ms:.0f} ms" for i, ms in enumerate(served) if ms >= TARGET_PAGE_MS]
    if slow:
        print(f"    pages at or over {TARGET_PAGE_MS:.0f} ms, in the order served: {', '.join(slow)}")
    print(
        f"  page fetch over HTTP, one at a time: median {median(direct):.1f} ms, "
        f"p95 {percentile(direct, 95):.1f} ms, worst {max(direct):.1f} ms"
    )


if __name__ == "__main__":
    main()
