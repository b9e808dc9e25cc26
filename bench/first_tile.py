"""Time to the first tile painted on a phone over slow 4G, before and after issue 17.

Two fresh `image-assistant serve`s, each with one user whose device sends 240 photos (thumbnails
made): "after" is this checkout; "before" is the gallery as it was before issue 17 (the parent of
the first commit that touched frontend/src/srcset.js: every tile the small thumbnail, no service
worker, no gzip, no preload), exported with `git archive`, its gallery built with this checkout's
node_modules and run by this venv with PYTHONPATH at its src. Debian's Chromium opens Photos as a
phone (390 x 844, ratio 3, touch), signed in, over Lighthouse's mobile "slow 4G" (150 ms RTT,
1.6 Mbit/s down, 750 kbit/s up) with the CPU slowed 4x (CDP Emulation.setCPUThrottlingRate, as
Lighthouse does). The network is slowed by a TCP relay in front of each server (SlowLink), not by
CDP Network.emulateNetworkConditions: Chromium applies that to the page's own requests only, not
to what its service worker fetches (measured: a warm navigation answered by the worker's
network-first fetch in 30 ms under a 150 ms RTT), which would flatter the service worker.
Measured from navigation start (performance.timeOrigin):

- first tile: the first frame in which a tile image inside the viewport is loaded
  (complete, naturalWidth > 0), seen by a requestAnimationFrame loop from an init script;
- first screen: the frame in which every tile image in the viewport is;
- bytes: what came down the relay until the first screen (headers included; answers from the
  HTTP cache or the service worker's cache cost nothing).

Cold: a fresh browser context, nothing cached. Warm: the same context after one load that
installed the service worker (after) or filled the HTTP cache (before), and one more load that
let it keep the shell and the thumbnails it saw. Runs alternate before/after; medians printed.

    .venv/bin/python bench/first_tile.py [--runs 5] [--photos 240]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gallery import jpeg  # noqa: E402
from harness import (  # noqa: E402
    REPO,
    Owner,
    Server,
    free_port,
    heading,
    owner_with_device,
    running_server,
    wait_thumbnails,
)
from playwright.sync_api import Browser, BrowserContext, Page  # noqa: E402

from tests.helpers.browser import PHONE, chromium  # noqa: E402

SHAPES = [(1600, 1067), (1067, 1600), (1400, 1400)]
PHONE_PROFILE: dict[str, Any] = {
    "viewport": PHONE,
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
}
# Lighthouse's mobile "slow 4G" (its devtools throttling) and its 4x CPU slowdown.
RTT = 0.150
# Bytes a second, in decimal units (Lighthouse counts 1.6 x 1024 kbit/s and 750 x 1024 bit/s: 5 % more).
RATES = {"down": 1.6 * 1_000_000 / 8, "up": 750 * 1000 / 8}
CPU_SLOWDOWN = 4
PROBE = """(() => {
  const onScreen = () => [...document.querySelectorAll('.tile img')].filter((i) => {
    const r = i.getBoundingClientRect(); return r.width > 0 && r.bottom > 0 && r.top < innerHeight; });
  const done = (i) => i.complete && i.naturalWidth > 0;
  const tick = () => {
    const tiles = onScreen();
    if (window.__firstTile === undefined && tiles.some(done)) window.__firstTile = performance.now();
    if (tiles.length > 0 && tiles.every(done)) { window.__firstScreen = performance.now(); return; }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();"""


@dataclass
class Load:
    first_tile: float
    first_screen: float
    kib: float


@dataclass
class Results:
    loads: dict[tuple[str, str], list[Load]] = field(default_factory=dict)

    def add(self, version: str, case: str, load: Load) -> None:
        self.loads.setdefault((version, case), []).append(load)


def before_commit() -> str:
    first = subprocess.run(
        ["git", "log", "--reverse", "--format=%H", "--", "frontend/src/srcset.js"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[0]
    return f"{first}^"


def before_tree(commit: str, into: Path) -> Path:
    """The server package at `commit` with its gallery built; the directory for PYTHONPATH."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit, "src", "frontend"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout
    into.mkdir(parents=True)
    archive_path = into / "before.tar"
    archive_path.write_bytes(archive)
    with tarfile.open(archive_path) as tar:
        tar.extractall(into, filter="data")
    (into / "frontend" / "node_modules").symlink_to(REPO / "frontend" / "node_modules")
    subprocess.run(["node", "build.mjs"], cwd=into / "frontend", check=True)
    return into / "src"


def upload(server: Server, token: str, count: int) -> None:
    start = datetime(2024, 5, 1, 8, tzinfo=UTC)
    rows, bodies = [], {}
    for i in range(count):
        width, height = SHAPES[i % len(SHAPES)]
        body = jpeg(i, width, height)
        photos_uuid = str(uuid.UUID(int=i + 1)).upper()
        rows.append(
            {
                "photos_uuid": photos_uuid,
                "filename": f"IMG_{i:04d}.JPG",
                "content_type": "image/jpeg",
                "media_type": "photo",
                "width": width,
                "height": height,
                "taken_at": (start + timedelta(minutes=i)).isoformat(),
                "checksum_sha256": hashlib.sha256(body).hexdigest(),
                "file_size": len(body),
            }
        )
        bodies[photos_uuid] = body
    with server.client(token) as http:
        for at in range(0, len(rows), 100):
            response = http.post("/api/sync/photos", json={"photos": rows[at : at + 100]})
            assert response.status_code == 200, response.text
        for photos_uuid, body in bodies.items():
            sha = hashlib.sha256(body).hexdigest()
            response = http.put(
                f"/api/sync/photos/{photos_uuid}/original", content=body, headers={"x-content-sha256": sha}
            )
            assert response.status_code == 200, response.text


@contextmanager
def library(data_dir: Path, photos: int, pythonpath: Path | None) -> Iterator[tuple[Server, Owner]]:
    extra = {"PYTHONPATH": str(pythonpath)} if pythonpath else None
    with running_server(data_dir, extra) as server:
        owner = owner_with_device(server)
        upload(server, owner.device_token, photos)
        wait_thumbnails(server, owner.user_token)
        yield server, owner


class SlowLink:
    """Slow 4G between Chromium and a server: a TCP relay that delays every chunk by half the
    round trip each way and shares one downlink and one uplink of the profile's rates among all
    connections (so the page, its service worker and navigations are slowed alike), and counts
    the bytes that come down."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = free_port()
        self.bytes = 0
        self.free_at = {"down": 0.0, "up": 0.0}
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        threading.Thread(target=self._run, args=(ready,), daemon=True).start()
        ready.wait(10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(asyncio.start_server(self._connection, "127.0.0.1", self.port))
        ready.set()
        self.loop.run_forever()

    async def _connection(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        await asyncio.sleep(RTT)  # the TCP handshake
        server_r, server_w = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        await asyncio.gather(self._pipe(client_r, server_w, "up"), self._pipe(server_r, client_w, "down"))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, way: str) -> None:
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        deliver = asyncio.ensure_future(self._deliver(queue, writer, way))
        try:
            while chunk := await reader.read(16384):
                now = self.loop.time()
                self.free_at[way] = max(now, self.free_at[way]) + len(chunk) / RATES[way]
                queue.put_nowait((self.free_at[way] + RTT / 2, chunk))
        except ConnectionError:
            pass
        queue.put_nowait((0.0, b""))
        await deliver

    async def _deliver(
        self, queue: asyncio.Queue[tuple[float, bytes]], writer: asyncio.StreamWriter, way: str
    ) -> None:
        try:
            while True:
                at, chunk = await queue.get()
                if not chunk:
                    break
                await asyncio.sleep(max(0.0, at - self.loop.time()))
                writer.write(chunk)
                await writer.drain()
                if way == "down":
                    self.bytes += len(chunk)
        except ConnectionError:
            pass
        finally:
            writer.close()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)


def measured_load(page: Page, link: SlowLink) -> Load:
    link.bytes = 0
    page.goto(link.url + "/", wait_until="commit")
    page.wait_for_function("() => window.__firstScreen !== undefined", timeout=120_000)
    first_tile, first_screen = page.evaluate("() => [window.__firstTile, window.__firstScreen]")
    load = Load(first_tile, first_screen, link.bytes / 1024)
    quiet(page, link)
    return load


def quiet(page: Page, link: SlowLink) -> None:
    """Wait until nothing has come down for 1.5 s, so a load's late tiles don't count in the next."""
    seen, still = -1, 0
    while still < 3:
        page.wait_for_timeout(500)
        still = still + 1 if link.bytes == seen else 0
        seen = link.bytes


def worker_ready(page: Page) -> None:
    page.evaluate(
        "async () => { if ('serviceWorker' in navigator && (await navigator.serviceWorker.getRegistration()))"
        " await navigator.serviceWorker.ready; }"
    )


def one_run(browser: Browser, link: SlowLink, owner: Owner) -> tuple[Load, Load]:
    context: BrowserContext = browser.new_context(**PHONE_PROFILE)
    context.add_cookies([{"name": "ia_session", "value": owner.user_token, "url": link.url}])
    context.add_init_script(PROBE)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
    try:
        cold = measured_load(page, link)
        worker_ready(page)
        measured_load(page, link)  # the worker, now in charge, keeps what it sees
        warm = measured_load(page, link)
        return cold, warm
    finally:
        context.close()


def median(loads: list[Load], attribute: str) -> float:
    return statistics.median(getattr(load, attribute) for load in loads)


def report(results: Results, runs: int) -> None:
    print(f"\n  medians of {runs} runs (ms from navigation start; KiB over the emulated network)")
    print(f"  {'case':6} {'':7} {'first tile':>11} {'first screen':>13} {'bytes':>11}")
    for case in ("cold", "warm"):
        tile = {}
        for version in ("before", "after"):
            loads = results.loads[(version, case)]
            tile[version] = median(loads, "first_tile")
            screen, kib = median(loads, "first_screen"), median(loads, "kib")
            print(f"  {case:6} {version:7} {tile[version]:8.0f} ms {screen:10.0f} ms {kib:7.1f} KiB")
        print(f"  {case:6} first tile after/before x{tile['after'] / tile['before']:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--photos", type=int, default=240)
    args = parser.parse_args()
    commit = before_commit()
    heading(f"First tile on a phone over slow 4G, before ({commit[:9]}^) and after (issue 17)")
    print(
        "  slow 4G (Lighthouse's): 150 ms RTT, 1.6 Mbit/s down, 750 kbit/s up, by a relay in front of each"
        f" server; CPU slowed {CPU_SLOWDOWN}x (CDP); phone 390x844 ratio 3"
    )
    print("  the machine is shared and noisy: compare the columns of one run, not runs of different days")
    results = Results()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        old_src = before_tree(commit, root / "before")
        with (
            library(root / "data-before", args.photos, old_src) as before,
            library(root / "data-after", args.photos, None) as after,
            chromium() as (_, browser),
        ):
            links = {
                "before": SlowLink(int(before[0].url.rsplit(":", 1)[1])),
                "after": SlowLink(int(after[0].url.rsplit(":", 1)[1])),
            }
            owners = {"before": before[1], "after": after[1]}
            for run in range(args.runs):
                for version in ("before", "after"):
                    cold, warm = one_run(browser, links[version], owners[version])
                    results.add(version, "cold", cold)
                    results.add(version, "warm", warm)
                    print(
                        f"  run {run + 1} {version:6} cold {cold.first_tile:6.0f} ms {cold.kib:7.1f} KiB"
                        f"  warm {warm.first_tile:6.0f} ms {warm.kib:7.1f} KiB  load {os.getloadavg()[0]:.2f}"
                    )
    report(results, args.runs)


if __name__ == "__main__":
    main()
