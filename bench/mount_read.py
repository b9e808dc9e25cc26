"""Reading an original through `image-assistant mount` (rclone + FUSE, bounded cache): cold (the
first read, fetched from S3), then cached, against reading it from the store directly (S3 GET),
on the real S3 server of ../shared/tools/s3-server.

    .venv/bin/python bench/mount_read.py                 # 5 files of 32 MiB
    .venv/bin/python bench/mount_read.py --mib 8 --files 10
"""

from __future__ import annotations

import argparse
import io
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.helpers.s3 import ensure_s3_server, make_s3_store, remove_bucket  # noqa: E402

CLI = str(REPO / ".venv" / "bin" / "image-assistant")


def timed_read(path: Path) -> float:
    started = time.monotonic()
    with path.open("rb") as handle:
        while handle.read(1 << 20):
            pass
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=32)
    parser.add_argument("--files", type=int, default=5)
    args = parser.parse_args()
    s3 = ensure_s3_server()
    bucket = f"ia-bench-mount-{secrets.token_hex(4)}"
    store = make_s3_store(s3, bucket)
    store.ensure_bucket()
    owner = uuid.uuid4()
    keys = []
    for _ in range(args.files):
        photos_uuid = str(uuid.uuid4()).upper()
        key = f"originals/{owner}/{photos_uuid[0]}/{photos_uuid}.jpeg"
        store.put(key, io.BytesIO(secrets.token_bytes(args.mib << 20)), content_type="image/jpeg")
        keys.append(key)
    with tempfile.TemporaryDirectory(prefix="ia-bench-mount-") as tmp:
        env = {**os.environ, "STORAGE_BACKEND": "s3", "MINIO_ENDPOINT": s3.endpoint,
               "MINIO_ACCESS_KEY": s3.access_key, "MINIO_SECRET_KEY": s3.secret_key,
               "MINIO_BUCKET": bucket, "IMAGE_ASSISTANT_DATA_DIR": tmp}  # fmt: skip
        point = Path(tmp) / "mnt"
        subprocess.run([CLI, "mount", "originals", str(point), "--cache-max-size", "2G"], env=env,
                       check=True, capture_output=True)  # fmt: skip
        try:
            direct, cold, cached = [], [], []
            for key in keys:
                started = time.monotonic()
                for _chunk in store.open(key):
                    pass
                direct.append(time.monotonic() - started)
                path = point / key.removeprefix("originals/")
                cold.append(timed_read(path))
                cached.append(timed_read(path))
        finally:
            subprocess.run([CLI, "unmount", str(point)], env=env, capture_output=True)
            remove_bucket(s3, bucket)
    mib = args.mib
    for label, times in (
        ("store directly (S3 GET)", direct),
        ("mount, cold", cold),
        ("mount, cached", cached),
    ):
        median = statistics.median(times)
        print(f"{label:<24} {median * 1000:8.1f} ms per {mib} MiB file ({mib / median:7.1f} MiB/s)")
    base = statistics.median(direct)
    cold_ratio, cached_ratio = statistics.median(cold) / base, statistics.median(cached) / base
    print(f"cold / direct {cold_ratio:.2f}x; cached / direct {cached_ratio:.2f}x")
    print("note: the mount's downloads are capped by --bwlimit (the cache bound's share), see ops/mount.py")


if __name__ == "__main__":
    main()
