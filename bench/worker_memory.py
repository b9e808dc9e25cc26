"""The embedded worker's memory: `serve` RSS idle, at its peak, and idle again after N thumbnails
and M playback transcodes (target: idle after under 200 MB).

    .venv/bin/python bench/worker_memory.py [--photos 1000] [--videos 20]

Photos are the fixture JPEGs (../shared/fixtures/photos-libraries), sent again and again under new
ids; videos are 2-second 1080p HEVC .MOV clips with sound made here with PyAV (as an iPhone
records). RSS is the serve process's (psutil), sampled every 0.2 s.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import heading, owner_with_device, running_server, verdict  # noqa: E402
from bench.thumbnails import fixture_jpegs  # noqa: E402
from tests.helpers.videos import make_video  # noqa: E402

MB = 1024 * 1024
TARGET_MB = 200


class RssSampler:
    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def now(self) -> int:
        return int(self.process.memory_info().rss)

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, self.now())

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def send(http: httpx.Client, data: bytes, filename: str, media_type: str) -> str:
    record = {
        "photos_uuid": str(uuid.uuid4()).upper(),
        "filename": filename,
        "media_type": media_type,
        "taken_at": "2024-05-01T10:00:00+00:00",
    }
    created = http.post("/api/sync/photos", json={"photos": [record]})
    created.raise_for_status()
    stored = http.put(
        f"/api/sync/photos/{record['photos_uuid']}/original",
        content=data,
        headers={"x-content-sha256": hashlib.sha256(data).hexdigest()},
    )
    stored.raise_for_status()
    return str(created.json()["results"][0]["id"])


def wait_done(device: httpx.Client, user: httpx.Client, expected: int) -> None:
    while True:
        counts = device.get("/api/sync/status").json()["thumbnails"]
        rows = user.get("/api/photos", params={"limit": 500}).json()["photos"]
        playing = sum(1 for r in rows if r["playback"] in ("pending", "processing"))
        if counts["completed"] + counts["failed"] >= expected and playing == 0:
            return
        time.sleep(1)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--photos", type=int, default=1000)
    parser.add_argument("--videos", type=int, default=20)
    parser.add_argument("--frames", type=int, default=60, help="frames of the 30 fps clip")
    parser.add_argument("--idle", type=float, default=10, help="seconds idle before the last reading")
    args = parser.parse_args()
    jpegs = [path.read_bytes() for path in fixture_jpegs()]
    print(f"making a 2 s 1080p HEVC clip ({args.videos} sent) ...", flush=True)
    clip = make_video(width=1920, height=1080, frames=args.frames, fps=30)
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_server(Path(tmp) / "data", {"LOG_LEVEL": "WARNING"}) as server,
    ):
        owner = owner_with_device(server)
        sampler = RssSampler(server.pid)
        time.sleep(2)
        idle_before = sampler.now()
        sampler.start()
        started = time.monotonic()
        with server.client(owner.device_token) as device, server.client(owner.user_token) as user:
            for index in range(args.photos):
                send(device, jpegs[index % len(jpegs)], f"IMG_{index:05d}.jpeg", "photo")
            for index in range(args.videos):
                send(device, clip, f"IMG_{index:05d}.MOV", "video")
            wait_done(device, user, args.photos + args.videos)
        elapsed = time.monotonic() - started
        time.sleep(args.idle)
        sampler.stop()
        idle_after = sampler.now()
    heading(
        f"serve with the embedded worker: {args.photos} photos + {args.videos} transcodes ({elapsed:.0f} s)"
    )
    print(f"  idle before   {idle_before / MB:7.1f} MB")
    print(f"  peak          {sampler.peak / MB:7.1f} MB")
    met = verdict(idle_after < TARGET_MB * MB)
    print(f"  idle after    {idle_after / MB:7.1f} MB   (target < {TARGET_MB} MB: {met})")


if __name__ == "__main__":
    main()
