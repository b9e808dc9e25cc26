"""Upload: a 1 GB original through PUT /api/sync/photos/{uuid}/original on the local store.

The file (random bytes) is made once in a temp dir. Each round streams it from disk with httpx
(a file-iterator body, Content-Length and X-Content-SHA256 set) while the server process's RSS
(children included) is polled every 50 ms; then, as the baseline, a separate process copies the
same file into the same store with LocalStore.put, hashing SHA-256 as it reads. Rounds alternate
server / direct, three of each. Targets (issue 2): server peak RSS under 150 MB, and upload
throughput at least 70% of the direct copy's.

    .venv/bin/python bench/upload.py            # 1 GiB, 3 rounds
    .venv/bin/python bench/upload.py --quick    # 256 MiB, 3 rounds
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # noqa: E402
    Server,
    heading,
    load_average,
    median,
    owner_with_device,
    python,
    running_server,
    verdict,
)

TARGET_RATIO = 0.70
TARGET_RSS_MB = 150
MB = 1024 * 1024
READ_CHUNK = MB
POLL_SECONDS = 0.05

# The baseline: what the server's store does with the same bytes, minus HTTP. Run as
# `python -c DIRECT_COPY root key file`; prints seconds, sha256 and peak RSS as JSON.
DIRECT_COPY = """
import hashlib, json, resource, sys, time
from pathlib import Path
from image_assistant.store.local import LocalStore

class Hashing:
    def __init__(self, file):
        self.file, self.hash = file, hashlib.sha256()
    def read(self, size=-1):
        data = self.file.read(size)
        self.hash.update(data)
        return data

root, key, source = sys.argv[1:4]
store = LocalStore(Path(root), signing_key=b"bench")
with open(source, "rb") as file:
    reader = Hashing(file)
    started = time.perf_counter()
    store.put(key, reader, content_type="image/jpeg")
    seconds = time.perf_counter() - started
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": seconds, "sha256": reader.hash.hexdigest(), "peak_rss": rss}))
"""


def make_file(path: Path, size: int) -> str:
    """`size` random bytes at `path`; returns their SHA-256."""
    digest = hashlib.sha256()
    with open(path, "wb") as file:
        left = size
        while left:
            block = os.urandom(min(8 * MB, left))
            digest.update(block)
            file.write(block)
            left -= len(block)
    return digest.hexdigest()


class RssPeak:
    """Polls a process tree's resident set size in a thread; `peak` is the largest total seen."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def current(self) -> int:
        total = 0
        for process in [self.process, *self.process.children(recursive=True)]:
            try:
                total += process.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        return total

    def _poll(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.current())
            self._stop.wait(POLL_SECONDS)

    def __enter__(self) -> RssPeak:
        self.peak = self.current()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.current())


def file_chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as file:
        while chunk := file.read(READ_CHUNK):
            yield chunk


def register_photos(server: Server, token: str, count: int, sha256: str) -> list[str]:
    """Metadata for `count` photos with this checksum, so each round stores a new original."""
    uuids = [str(uuid.uuid4()).upper() for _ in range(count)]
    records = [
        {
            "photos_uuid": u,
            "filename": f"BIG_{i}.JPG",
            "content_type": "image/jpeg",
            "width": 8000,
            "height": 6000,
            "taken_at": "2024-06-01T12:00:00+02:00",
            "checksum_sha256": sha256,
        }
        for i, u in enumerate(uuids)
    ]
    with server.client(token) as http:
        response = http.post("/api/sync/photos", json={"photos": records})
        if response.status_code != 200:
            raise RuntimeError(response.text)
    return uuids


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process tree."""
    total = 0.0
    root = psutil.Process(pid)
    for process in [root, *root.children(recursive=True)]:
        times = process.cpu_times()
        total += times.user + times.system
    return total


def upload_once(
    server: Server, token: str, photos_uuid: str, path: Path, sha256: str
) -> tuple[float, int, float, float]:
    """PUT the file streamed from disk; returns (seconds, server peak RSS in bytes, server CPU
    seconds, client CPU seconds): the client shares the machine's cores with the server."""
    size = path.stat().st_size
    headers = {"x-content-sha256": sha256, "content-length": str(size), "content-type": "image/jpeg"}
    with server.client(token, timeout=600) as http, RssPeak(server.pid) as rss:
        server_cpu, client_cpu = cpu_seconds(server.pid), time.process_time()
        started = time.perf_counter()
        response = http.put(
            f"/api/sync/photos/{photos_uuid}/original", content=file_chunks(path), headers=headers
        )
        seconds = time.perf_counter() - started
        server_cpu, client_cpu = cpu_seconds(server.pid) - server_cpu, time.process_time() - client_cpu
    answer = response.json()
    if response.status_code != 200 or answer.get("status") != "stored" or answer.get("size") != size:
        raise RuntimeError(f"upload failed: {response.status_code} {response.text[:300]}")
    return seconds, rss.peak, server_cpu, client_cpu


def direct_once(root: Path, key: str, path: Path, sha256: str) -> tuple[float, int]:
    """LocalStore.put of the same file in a fresh process; returns (seconds, its peak RSS)."""
    result = subprocess.run(
        [python(), "-c", DIRECT_COPY, str(root), key, str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    answer = json.loads(result.stdout)
    if answer["sha256"] != sha256:
        raise RuntimeError("the direct copy hashed different bytes")
    return answer["seconds"], answer["peak_rss"]


def clear_objects(root: Path) -> None:
    """Drop stored copies between rounds, so every round writes to a store of the same size."""
    for child in root.iterdir():
        if child.is_dir():
            shutil.rmtree(child)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 256 MiB file instead of 1 GiB")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    size = (256 if args.quick else 1024) * MB

    with tempfile.TemporaryDirectory(prefix="ia-bench-upload-") as tmp:
        source = Path(tmp) / "original.bin"
        heading(f"making a {size // MB} MiB file of random bytes")
        started = time.perf_counter()
        sha256 = make_file(source, size)
        print(f"  {time.perf_counter() - started:.1f} s, sha256 {sha256[:16]}…")

        data_dir = Path(tmp) / "local"
        server_rows: list[tuple[float, int]] = []
        direct_rows: list[tuple[float, int]] = []
        with running_server(data_dir) as server:
            owner = owner_with_device(server)
            uuids = register_photos(server, owner.device_token, args.rounds, sha256)
            store_root = data_dir / "objects"
            idle = RssPeak(server.pid).current()
            heading(f"{args.rounds} rounds, alternating (server idle RSS {idle / MB:.0f} MiB)")
            print(f"  ({load_average()})")
            for round_, photos_uuid in enumerate(uuids, start=1):
                seconds, peak, server_cpu, client_cpu = upload_once(
                    server, owner.device_token, photos_uuid, source, sha256
                )
                server_rows.append((seconds, peak))
                print(
                    f"  round {round_} PUT …/original   {size / MB / seconds:7.1f} MiB/s  "
                    f"({seconds:.2f} s)  server peak RSS {peak / MB:.0f} MiB;"
                    f" CPU server {server_cpu:.2f} s, client {client_cpu:.2f} s",
                    flush=True,
                )
                clear_objects(store_root)
                seconds, peak = direct_once(store_root, f"bench/direct-{round_}.bin", source, sha256)
                direct_rows.append((seconds, peak))
                print(
                    f"  round {round_} LocalStore.put   {size / MB / seconds:7.1f} MiB/s  "
                    f"({seconds:.2f} s)  copier peak RSS {peak / MB:.0f} MiB",
                    flush=True,
                )
                clear_objects(store_root)

    print(f"  ({load_average()} after)")
    server_rate = median([size / MB / s for s, _ in server_rows])
    direct_rate = median([size / MB / s for s, _ in direct_rows])
    peak_rss = max(p for _, p in server_rows) / MB
    ratio = server_rate / direct_rate
    heading("summary (medians of the rounds)")
    print(f"  PUT …/original through the API  {server_rate:7.1f} MiB/s")
    print(f"  LocalStore.put directly          {direct_rate:7.1f} MiB/s")
    print(f"  ratio {ratio:.0%} vs target >= {TARGET_RATIO:.0%} -> {verdict(ratio >= TARGET_RATIO)}")
    print(
        f"  server peak RSS (max of rounds, children included) {peak_rss:.0f} MiB"
        f" vs target < {TARGET_RSS_MB} MB -> {verdict(peak_rss * MB < TARGET_RSS_MB * 1_000_000)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
