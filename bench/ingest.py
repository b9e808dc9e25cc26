"""Metadata ingest: synthetic photo records in batches of 100 through POST /api/sync/photos.

Runs on PostgreSQL (a fresh database, dropped afterwards) and on SQLite, each behind its own
`image-assistant serve`, and prints records/s for a first pass (every record `created`) and a
second pass re-sending the same records (every record `unchanged`). Target (issue 2): at least
10,000 records/s on PostgreSQL on a 2-core machine.

    .venv/bin/python bench/ingest.py            # 100,000 records, 4 client threads
    .venv/bin/python bench/ingest.py --quick    # 10,000 records (smoke check)
    .venv/bin/python bench/ingest.py --against ../base/src --rounds 5

With --against SRC (another checkout's src/), that code's server runs beside ours on PostgreSQL
(1 API process each, a fresh database each), every batch sent to both in turn, so that the
machine's load falls on both alike; each round compares the CPU per batch of each server plus
its PostgreSQL backends, ours / theirs, for the first and the second pass, and the summary
gives the medians of those paired ratios.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import random
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # noqa: E402
    CpuMeter,
    Server,
    fresh_postgres_database,
    heading,
    load_average,
    machine_speed,
    median,
    owner_with_device,
    percentile,
    running_server,
    verdict,
)

TARGET_RECORDS_PER_SECOND = 10_000
BATCH = 100
OFFSETS = [timezone(timedelta(minutes=m)) for m in (-420, -300, 0, 60, 120, 330, 540)]
CONTENT_TYPES = [("HEIC", "image/heic"), ("JPG", "image/jpeg"), ("PNG", "image/png"), ("MOV", "video/mp4")]


def synthetic_record(index: int, rng: random.Random) -> dict[str, Any]:
    """One valid photo metadata record, as the agent would send it."""
    extension, content_type = CONTENT_TYPES[index % len(CONTENT_TYPES)]
    zone = OFFSETS[index % len(OFFSETS)]
    taken = datetime(2015, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(10 * 365 * 86400))
    landscape = rng.random() < 0.7
    return {
        "photos_uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)).upper(),
        "filename": f"IMG_{index:06d}.{extension}",
        "content_type": content_type,
        "media_type": "video" if extension == "MOV" else "photo",
        "width": 4032 if landscape else 3024,
        "height": 3024 if landscape else 4032,
        "file_size": rng.randrange(500_000, 12_000_000),
        "taken_at": taken.astimezone(zone).isoformat(),
        "location_lat": round(rng.uniform(-60, 70), 6),
        "location_lng": round(rng.uniform(-180, 180), 6),
        "is_favorite": rng.random() < 0.05,
        "checksum_sha256": hashlib.sha256(index.to_bytes(8, "big")).hexdigest(),
    }


def batch_bodies(count: int, seed: int = 2) -> list[bytes]:
    """`count` records as ready-to-send JSON bodies of BATCH records each."""
    rng = random.Random(seed)
    records = [synthetic_record(i, rng) for i in range(count)]
    return [
        json.dumps({"photos": records[i : i + BATCH]}, separators=(",", ":")).encode()
        for i in range(0, count, BATCH)
    ]


@dataclass
class PassResult:
    records: int
    seconds: float
    latencies_ms: list[float]
    statuses: dict[str, int]
    cpu: dict[str, float]

    @property
    def rate(self) -> float:
        return self.records / self.seconds

    @property
    def server_side_cpu_per_record(self) -> float:
        return (self.cpu["server"] + self.cpu["database"]) / self.records

    @property
    def ceiling(self) -> float:
        """Records/s if the server and database had every core to themselves."""
        return (os.cpu_count() or 1) / self.server_side_cpu_per_record


def send_all(server: Server, token: str, bodies: list[bytes], threads: int, cpu: CpuMeter) -> PassResult:
    """POST every body, `threads` clients at once (each its own keep-alive connection)."""
    latencies: list[float] = []
    statuses = {"created": 0, "updated": 0, "unchanged": 0}
    lock = threading.Lock()
    shares = [bodies[i::threads] for i in range(threads)]

    def client(share: list[bytes]) -> None:
        headers = {"content-type": "application/json"}
        mine: list[float] = []
        counts = dict.fromkeys(statuses, 0)
        with server.client(token, timeout=120) as http:
            for body in share:
                started = time.perf_counter()
                response = http.post("/api/sync/photos", content=body, headers=headers)
                mine.append((time.perf_counter() - started) * 1000)
                if response.status_code != 200:
                    raise RuntimeError(f"POST /api/sync/photos: {response.status_code} {response.text[:300]}")
                answer = response.json()
                for status in counts:
                    counts[status] += answer[status]
        with lock:
            latencies.extend(mine)
            for status, count in counts.items():
                statuses[status] += count

    cpu.start()
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        for future in [pool.submit(client, share) for share in shares]:
            future.result()
    elapsed = time.perf_counter() - started
    return PassResult(sum(statuses.values()), elapsed, latencies, statuses, cpu.stop())


def warm_up(server: Server, token: str) -> None:
    """A few batches of throwaway records so imports, pools and caches are ready."""
    with server.client(token) as http:
        for body in batch_bodies(3 * BATCH, seed=99):
            http.post("/api/sync/photos", content=body, headers={"content-type": "application/json"})


@contextmanager
def analyzing(url: str | None, every: float) -> Iterator[None]:
    """Run ANALYZE photos every `every` seconds meanwhile, as autovacuum would (0: never)."""
    if not url or every <= 0:
        yield
        return
    stop = threading.Event()

    def loop() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            while not stop.wait(every):
                conn.execute("ANALYZE photos")

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def autovacuum_setting(url: str) -> str:
    with psycopg.connect(url) as conn:
        row = conn.execute("SHOW autovacuum").fetchone()
    return str(row[0]) if row else "?"


def run_backend(
    name: str,
    data_dir: Path,
    extra: dict[str, str],
    bodies: list[bytes],
    threads: int,
    analyze_every: float,
    serve_args: tuple[str, ...],
) -> dict:
    heading(f"{name}: {len(bodies) * BATCH:,} records, batches of {BATCH}, {threads} client threads")
    print(f"  ({load_average()} before)")
    url = extra.get("DATABASE_URL")
    if url:
        every = f"; the bench runs ANALYZE photos every {analyze_every:g} s" if analyze_every > 0 else ""
        print(f"  (PostgreSQL autovacuum: {autovacuum_setting(url)}{every})")
    with running_server(data_dir, extra, serve_args) as server, analyzing(url, analyze_every):
        owner = owner_with_device(server)
        warm_up(server, owner.device_token)
        cpu = CpuMeter(server.pid, extra.get("DATABASE_URL"))
        first = send_all(server, owner.device_token, bodies, threads, cpu)
        report("first pass (new)", first, expect="created")
        second = send_all(server, owner.device_token, bodies, threads, cpu)
        report("second pass (same records)", second, expect="unchanged")
    print(f"  ({load_average()} after)")
    return {"first": first, "second": second}


def compare(bodies: list[bytes], threads: int, against: Path, rounds: int) -> int:
    """Ours and `against` side by side on PostgreSQL, batch for batch; paired ratios of CPU."""
    if not (against / "image_assistant").is_dir():
        sys.exit(f"--against {against}: no image_assistant package there")
    ratios: dict[str, list[float]] = {"first": [], "second": []}
    for round_ in range(rounds):
        heading(f"round {round_ + 1} of {rounds}: {len(bodies) * BATCH:,} records to each server")
        print(f"  ({load_average()} before)")
        figures = interleaved(bodies, threads, against)
        for label, (ours, theirs) in figures.items():
            ratios[label].append(ours / theirs)
            print(
                f"  {label} pass: CPU per batch (server + PostgreSQL) ours {ours:.2f} ms,"
                f" --against {theirs:.2f} ms = {ours / theirs:.3f}x"
            )
    heading(f"ours against {against}: paired ratios of CPU per batch, {rounds} rounds")
    for label, values in ratios.items():
        listed = ", ".join(f"{value:.3f}" for value in values)
        print(f"  {label} pass: median {median(values):.3f}x  ({listed})")
    return 0


def interleaved(bodies: list[bytes], threads: int, against: Path) -> dict[str, tuple[float, float]]:
    """Both servers (1 API process each, a fresh database each) running at once, each client
    thread sending a batch to one and then the same batch to the other (which one first
    alternates): what the machine's load does to one it does to the other. CPU ms per batch,
    (ours, against), for the first pass and the second."""
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ia-bench-ingest-")))
        sides = []
        for name, extra in (("ours", {}), ("against", {"PYTHONPATH": str(against)})):
            url = stack.enter_context(fresh_postgres_database("ia_bench_ingest"))
            server = stack.enter_context(
                running_server(tmp / name, {"DATABASE_URL": url, **extra}, ("--workers", "1"))
            )
            owner = owner_with_device(server)
            warm_up(server, owner.device_token)
            sides.append((server, owner.device_token, CpuMeter(server.pid, url)))
        return {label: _interleaved_pass(sides, bodies, threads) for label in ("first", "second")}


def _interleaved_pass(
    sides: list[tuple[Server, str, CpuMeter]], bodies: list[bytes], threads: int
) -> tuple[float, float]:
    numbered = list(enumerate(bodies))
    shares = [numbered[i::threads] for i in range(threads)]
    headers = {"content-type": "application/json"}

    def client(share: list[tuple[int, bytes]]) -> None:
        with contextlib.ExitStack() as stack:
            https = [stack.enter_context(server.client(token, timeout=120)) for server, token, _ in sides]
            for index, body in share:
                for http in https if index % 2 == 0 else reversed(https):
                    response = http.post("/api/sync/photos", content=body, headers=headers)
                    if response.status_code != 200:
                        raise RuntimeError(
                            f"POST /api/sync/photos: {response.status_code} {response.text[:300]}"
                        )

    for _, _, meter in sides:
        meter.start()
    with ThreadPoolExecutor(threads) as pool:
        for future in [pool.submit(client, share) for share in shares]:
            future.result()
    spent = [meter.stop() for _, _, meter in sides]
    ours, theirs = ((cpu["server"] + cpu["database"]) / len(bodies) * 1000 for cpu in spent)
    return ours, theirs


def report(label: str, result: PassResult, *, expect: str) -> None:
    wrong = {k: v for k, v in result.statuses.items() if k != expect and v}
    print(
        f"  {label:<28} {result.rate:>8,.0f} records/s  ({result.records:,} in {result.seconds:.1f} s; "
        f"per batch p50 {median(result.latencies_ms):.1f} ms,"
        f" p99 {percentile(result.latencies_ms, 99):.1f} ms)"
    )
    per_batch = {part: seconds / result.records * BATCH * 1000 for part, seconds in result.cpu.items()}
    print(
        f"    CPU per batch: server {per_batch['server']:.1f} ms,"
        f" PostgreSQL backends {per_batch['database']:.1f} ms, bench client {per_batch['client']:.1f} ms"
        f" -> ceiling with all {os.cpu_count()} cores {result.ceiling:,.0f} records/s"
    )
    if wrong or result.statuses[expect] != result.records:
        print(f"    warning: expected every record {expect}, got {result.statuses}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 records instead of 100,000")
    parser.add_argument("--records", type=int, default=None, help="number of records (multiple of 100)")
    parser.add_argument("--threads", type=int, default=4, help="concurrent HTTP clients (default 4)")
    parser.add_argument(
        "--analyze-every",
        type=float,
        default=0,
        metavar="SECONDS",
        help="what-if: ANALYZE photos this often during the PostgreSQL run, as autovacuum would",
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="also run PostgreSQL with `serve --workers N` (default 2)"
    )
    parser.add_argument(
        "--against", type=Path, metavar="SRC", help="another checkout's src/, compared with ours in turns"
    )
    parser.add_argument("--rounds", type=int, default=5, help="paired rounds with --against (default 5)")
    args = parser.parse_args()
    count = args.records or (10_000 if args.quick else 100_000)
    bodies = batch_bodies(count)
    print(f"({machine_speed()})")
    if args.against:
        return compare(bodies, args.threads, args.against.resolve(), args.rounds)
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="ia-bench-ingest-") as tmp:
        for workers in sorted({1, args.workers}):
            name = f"PostgreSQL, {workers} API process{'es' if workers > 1 else ''}"
            with fresh_postgres_database("ia_bench_ingest") as url:
                results[name] = run_backend(
                    name,
                    Path(tmp) / f"pg-{workers}",
                    {"DATABASE_URL": url},
                    bodies,
                    args.threads,
                    args.analyze_every,
                    ("--workers", str(workers)),
                )
        results["SQLite"] = run_backend("SQLite", Path(tmp) / "sqlite", {}, bodies, args.threads, 0, ())

    heading("summary (records/s; the whole pass's wall time, median batch latency in brackets)")
    for name, passes in results.items():
        first, second = passes["first"], passes["second"]
        print(
            f"  {name:<28} new {first.rate:>8,.0f}/s [{median(first.latencies_ms):.0f} ms]"
            f" (CPU ceiling {first.ceiling:,.0f}/s)   "
            f"unchanged {second.rate:>8,.0f}/s [{median(second.latencies_ms):.0f} ms]"
            f" (CPU ceiling {second.ceiling:,.0f}/s)"
        )
    postgres = [name for name in results if name.startswith("PostgreSQL")]
    best = max(postgres, key=lambda name: results[name]["first"].rate)
    pg = results[best]["first"]
    print(
        f"  {best}: new records vs target {TARGET_RECORDS_PER_SECOND:,}/s: measured {pg.rate:,.0f}/s ="
        f" {pg.rate / TARGET_RECORDS_PER_SECOND:.2f}x -> {verdict(pg.rate >= TARGET_RECORDS_PER_SECOND)};"
        f" CPU ceiling {pg.ceiling:,.0f}/s = {pg.ceiling / TARGET_RECORDS_PER_SECOND:.2f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
