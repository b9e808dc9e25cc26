"""Verify: re-reading 10,000 stored originals against `sha256sum` over the same files, and on S3
against reading the same objects with plain boto3.

A library of N photos with random originals (--size bytes each) is written to a local store
with its rows (bench/stored_library.py). Each round times, alternately, `ops.verify.verify`
in this process (what `image-assistant verify` runs after start-up: every row, every object
hashed, the orphan scan) and `sha256sum` over the same files (one process, fed by xargs).
Files come from the page cache on both sides (each is read once before timing). With --s3 the
same objects are uploaded to a bucket of the test S3 server and verify on the S3 store is timed
against boto3 GETs of the same keys with the same number of threads (no hashing).
Target (issue 12): verify at least 0.8 of sha256sum's speed (ratio = sha256sum s / verify s).

    .venv/bin/python bench/verify.py                     # 10,000 x 128 KiB, 3 rounds
    .venv/bin/python bench/verify.py --count 2000 --s3   # smaller, with the S3 comparison
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import heading, load_average, machine_speed, median, verdict  # noqa: E402
from stored_library import StoredLibrary, build  # noqa: E402

from image_assistant.ops import verify  # noqa: E402
from image_assistant.store.base import ObjectStore  # noqa: E402

TARGET_RATIO = 0.8


def no_progress(total: int) -> verify.Advance:
    return lambda count, size: None


def time_verify(library: StoredLibrary, store: ObjectStore, jobs: int) -> float:
    started = time.perf_counter()
    report = verify.verify(
        sessions=library.sessions, store=store, user_id=None, sample=None, jobs=jobs, on_start=no_progress
    )
    elapsed = time.perf_counter() - started
    if not report.clean or report.checked != len(library.keys):
        raise RuntimeError(f"verify found problems in a clean library: {report.problems[:3]}")
    return elapsed


def time_sha256sum(library: StoredLibrary, listing: Path) -> float:
    started = time.perf_counter()
    subprocess.run(f"xargs -0 sha256sum < {listing} > /dev/null", shell=True, check=True, cwd=library.root)
    return time.perf_counter() - started


def s3_round(library: StoredLibrary, jobs: int, rounds: int) -> tuple[list[float], list[float]]:
    from tests.helpers.s3 import ensure_s3_server, make_s3_store, raw_client, remove_bucket

    server = ensure_s3_server()
    bucket = f"ia-bench-verify-{int(time.time())}"
    store = make_s3_store(server, bucket)
    store.ensure_bucket()
    client = raw_client(server)
    try:
        heading(f"uploading {len(library.keys):,} objects to the S3 server")

        def upload(key: str) -> None:
            client.put_object(Bucket=bucket, Key=key, Body=(library.root / key).read_bytes())

        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(upload, library.keys))

        def plain_get(key: str) -> int:
            body: Any = client.get_object(Bucket=bucket, Key=key)["Body"]
            return len(body.read())

        ours, plain = [], []
        for number in range(1, rounds + 1):
            ours.append(time_verify(library, store, jobs))
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=jobs) as pool:
                total = sum(pool.map(plain_get, library.keys))
            plain.append(time.perf_counter() - started)
            assert total == library.bytes
            print(f"  round {number}: verify {ours[-1]:.2f} s, boto3 GETs {plain[-1]:.2f} s", flush=True)
        return ours, plain
    finally:
        remove_bucket(server, bucket)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--size", type=int, default=128 * 1024, help="bytes per original")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=4, help="verify's --jobs")
    parser.add_argument("--s3", action="store_true", help="also compare on the test S3 server")
    args = parser.parse_args()

    print(load_average())
    print(machine_speed())
    with tempfile.TemporaryDirectory(prefix="ia-bench-verify-") as tmp:
        heading(f"writing {args.count:,} originals of {args.size:,} bytes")
        started = time.perf_counter()
        library = build(Path(tmp) / "data", count=args.count, size=args.size)
        print(f"  {library.bytes / 1e6:.0f} MB in {time.perf_counter() - started:.1f} s")
        listing = Path(tmp) / "files.list"
        listing.write_bytes(b"\0".join(k.encode() for k in library.keys))

        heading(f"local store: verify (--jobs {args.jobs}) against sha256sum, {args.rounds} rounds")
        time_sha256sum(library, listing)  # into the page cache
        ours, baseline = [], []
        for number in range(1, args.rounds + 1):
            ours.append(time_verify(library, library.store, args.jobs))
            baseline.append(time_sha256sum(library, listing))
            print(f"  round {number}: verify {ours[-1]:.2f} s, sha256sum {baseline[-1]:.2f} s", flush=True)
        ratio = median(baseline) / median(ours)
        rate = library.bytes / 1e6 / median(ours)
        print(f"  median: verify {median(ours):.2f} s ({rate:.0f} MB/s), sha256sum {median(baseline):.2f} s")
        print(f"  ratio {ratio:.2f} (target >= {TARGET_RATIO}): {verdict(ratio >= TARGET_RATIO)}")

        if args.s3:
            heading(f"S3 store: verify (--jobs {args.jobs}) against boto3 GETs ({args.jobs} threads)")
            s3_ours, s3_plain = s3_round(library, args.jobs, args.rounds)
            s3_ratio = median(s3_plain) / median(s3_ours)
            print(f"  median: verify {median(s3_ours):.2f} s, boto3 {median(s3_plain):.2f} s")
            print(f"  ratio {s3_ratio:.2f} (boto3 s / verify s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
