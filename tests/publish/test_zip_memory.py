"""A 200-photo set downloads as one zip while the server's memory stays flat (RSS sampled)."""

from __future__ import annotations

import hashlib
import threading
import time
import zipfile
from io import BytesIO

import pytest
import pyvips

from tests.helpers.publish import photo_ids
from tests.helpers.records import photo_record
from tests.helpers.server import Accounts
from tests.helpers.thumbnails import wait_settled

SQLITE = pytest.mark.parametrize("server", ["sqlite"], indirect=True)
PHOTOS = 200


def _rss(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmRSS:"))


def _photo(i: int) -> bytes:
    """About 200 KB of noise, different for each photo (small, but not nothing)."""
    noise = pyvips.Image.gaussnoise(640, 480, sigma=60, mean=128 + i % 50).cast("uchar")
    data: bytes = noise.bandjoin([noise, noise]).copy(interpretation="srgb").jpegsave_buffer(Q=95)
    return data


@SQLITE
def test_a_200_photo_zip_streams_in_constant_memory(accounts: Accounts) -> None:
    device = accounts.device()
    bodies = [_photo(i) for i in range(PHOTOS)]
    records = [
        photo_record(filename=f"IMG_{i:04d}.JPG", checksum_sha256=hashlib.sha256(b).hexdigest())
        for i, b in enumerate(bodies)
    ]
    for start in range(0, PHOTOS, 100):
        device.http.post("/api/sync/photos", json={"photos": records[start : start + 100]})
    for record, body in zip(records, bodies, strict=True):
        sent = device.http.put(f"/api/sync/photos/{record['photos_uuid']}/original", content=body)
        assert sent.status_code in (200, 201), sent.text
    ids = photo_ids(device, records)
    http = device.owner.http
    # The embedded worker thumbnails these in the same process (AVIF encodes take ~60 MB while
    # they run): the memory measured is the zip's once that is done.
    wait_settled(http, set(ids), timeout=240)
    set_id = http.post("/api/publish-sets", json={"title": "Big", "photo_ids": ids}).json()["id"]
    server = accounts.server
    assert server.process is not None
    pid = server.process.pid
    before = _rss(pid)
    peak = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _rss(pid))
            time.sleep(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()
    received = BytesIO()
    first_byte_at = None
    started = time.monotonic()
    try:
        with http.stream(
            "GET", f"/api/publish-sets/{set_id}/download", params={"preset": "original-clean"}
        ) as response:
            assert response.status_code == 200
            for chunk in response.iter_bytes():
                first_byte_at = first_byte_at or time.monotonic()
                received.write(chunk)
    finally:
        done.set()
        sampler.join()
    total = sum(len(b) for b in bodies)
    with zipfile.ZipFile(received) as archive:
        names = archive.namelist()
        assert len(names) == PHOTOS and names[0] == "big-001.jpg" and names[-1] == "big-200.jpg"
        assert archive.read("big-007.jpg")[-2:] == b"\xff\xd9"
    assert first_byte_at is not None and first_byte_at - started < 5, "the zip starts before it is whole"
    grown = peak[0] - before
    # The set is ~40 MB; a server holding the zip (or its photos) would grow by that much.
    assert grown < min(total // 2, 25 * 1024 * 1024), (
        f"RSS grew {grown / 2**20:.1f} MiB for {total / 2**20:.0f} MiB"
    )
