"""Timeline listing at 1,000,000 photos on PostgreSQL: GET /api/photos?limit=100 latency.

A fresh database is migrated with `image-assistant db upgrade`; one user and one paired device
are made through the API; 1,000,000 photo rows owned by them are loaded directly with SQL
(INSERT ... SELECT generate_series, in a shuffled capture-time order) and ANALYZEd. Then the
first page and a page 500,000 rows deep (its cursor encoded by image_assistant.core.cursor
from the row at that offset) are requested alternately over HTTP. Targets (issue 2): p99 under
30 ms, and the deep page no slower than 1.5x the first.

    .venv/bin/python bench/timeline.py            # 1,000,000 rows, 200 requests per page
    .venv/bin/python bench/timeline.py --quick    # 100,000 rows, 100 requests per page
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from datetime import UTC
from pathlib import Path

import psycopg
from sqlalchemy import tuple_
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql import select

from image_assistant.core import cursor, gallery
from image_assistant.db.models import Photo

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # noqa: E402
    CpuMeter,
    Server,
    cli,
    fresh_postgres_database,
    heading,
    load_average,
    median,
    owner_with_device,
    percentile,
    running_server,
    server_env,
    verdict,
)

TARGET_P99_MS = 30.0
TARGET_DEEP_RATIO = 1.5
PAGE = 100
LOAD_CHUNK = 100_000
SHUFFLE = 7919  # prime, coprime with any 10**k row count: i -> i*SHUFFLE % n is a permutation

# Two photos share every capture time (a burst), so the (sort_at, id) tie-break is exercised;
# the rows go in shuffled capture order, as a library synced over years would.
LOAD_SQL = """
INSERT INTO photos (
    id, user_id, device_id, photos_uuid, filename, content_type, media_type, width, height,
    file_size, taken_at, taken_tz_offset, sort_at, location_lat, location_lng, is_favorite,
    is_hidden, checksum_sha256, thumbnail_status, created_at, updated_at)
SELECT
    gen_random_uuid(), %(user)s, %(device)s, upper(gen_random_uuid()::text),
    'IMG_' || lpad(i::text, 7, '0') || '.HEIC', 'image/heic', 'photo', 4032, 3024,
    2000000 + (i %% 1000) * 1000, t, 120, t, 48.85 + (i %% 100) / 1000.0, 2.35 - (i %% 77) / 1000.0,
    i %% 20 = 0, false, encode(sha256(i::text::bytea), 'hex'), 'completed', now(), now()
FROM (
    SELECT i, timestamptz '2012-01-01 00:00:00+00'
              + ((i::bigint * %(shuffle)s) %% %(n)s / 2) * interval '273 s' AS t
    FROM generate_series(%(start)s::int, %(stop)s::int) AS i
) AS s
"""


# Every photo's original is stored: one photo_files row each, as after a full sync.
STORED_ORIGINALS_SQL = """
INSERT INTO photo_files (photo_id, kind, filename, content_type, declared_sha256, object_key, sha256,
    size, stored_at, updated_at)
SELECT id, 'original', filename, content_type, checksum_sha256,
    'originals/' || user_id || '/' || left(photos_uuid, 1) || '/' || photos_uuid || '.heic',
    checksum_sha256, file_size, now(), now()
FROM photos WHERE user_id = %(user)s
"""


def load_photos(url: str, user_id: str, device_id: str, count: int) -> float:
    """Insert `count` rows for the owner in chunks; return the seconds it took (with ANALYZE)."""
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET maintenance_work_mem = '256MB'")
        for start in range(0, count, LOAD_CHUNK):
            stop = min(start + LOAD_CHUNK, count) - 1
            conn.execute(
                LOAD_SQL,
                {
                    "user": user_id,
                    "device": device_id,
                    "shuffle": SHUFFLE,
                    "n": count,
                    "start": start,
                    "stop": stop,
                },
            )
            print(f"  {stop + 1:>9,} rows  {time.perf_counter() - started:6.1f} s", flush=True)
        conn.execute(STORED_ORIGINALS_SQL, {"user": user_id})
        conn.execute("VACUUM (ANALYZE) photos")
        conn.execute("VACUUM (ANALYZE) photo_files")
    return time.perf_counter() - started


def deep_cursor(url: str, user_id: str, offset: int) -> tuple[str, str]:
    """The cursor the server would hand out after the row at `offset - 1`, and the next row's id.

    Encoded with the server's own `cursor.encode`, from the same fields `gallery.timeline` uses.
    """
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT sort_at, id FROM photos WHERE user_id = %s AND deleted_at IS NULL AND NOT is_hidden"
            " ORDER BY sort_at DESC, id DESC OFFSET %s LIMIT 2",
            (user_id, offset - 1),
        ).fetchall()
    (sort_at, last_id), (_, next_id) = rows
    return cursor.encode({"t": sort_at.astimezone(UTC).isoformat(), "i": str(last_id)}), str(next_id)


def explain_deep_page(url: str, user_id: str, after: str) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of the statement gallery.timeline builds for a cursor page."""
    at, last_id = cursor.timeline_position(after)
    statement = (
        select(Photo)
        .where(*gallery.visible(uuid.UUID(user_id)))
        .where(tuple_(Photo.sort_at, Photo.id) < tuple_(at, last_id))
        .order_by(Photo.sort_at.desc(), Photo.id.desc())
        .limit(PAGE + 1)
    )
    compiled = statement.compile(dialect=postgresql.dialect(paramstyle="pyformat"))  # type: ignore[no-untyped-call]
    with psycopg.connect(url) as conn:
        conn.execute(f"{compiled}", compiled.params)  # warm, as the server's repeated calls are
        plan = conn.execute(f"EXPLAIN (ANALYZE, BUFFERS) {compiled}", compiled.params).fetchall()
    return [line for (line,) in plan]


def time_pages(server: Server, token: str, deep: str, requests: int, warmup: int) -> dict[str, list[float]]:
    """Alternate first-page and deep-page requests on one keep-alive connection; ms per request."""
    timings: dict[str, list[float]] = {"first": [], "deep": []}
    params = {"first": {"limit": PAGE}, "deep": {"limit": PAGE, "cursor": deep}}
    with server.client(token) as http:
        for round_ in range(warmup + requests):
            for name, query in params.items():
                started = time.perf_counter()
                response = http.get("/api/photos", params=query)
                elapsed = (time.perf_counter() - started) * 1000
                if response.status_code != 200 or len(response.json()["photos"]) != PAGE:
                    problem = f"{response.status_code} {response.text[:200]}"
                    raise RuntimeError(f"GET /api/photos ({name}): {problem}")
                if round_ >= warmup:
                    timings[name].append(elapsed)
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100,000 rows, 100 requests per page")
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--requests", type=int, default=None)
    args = parser.parse_args()
    rows = args.rows or (100_000 if args.quick else 1_000_000)
    requests = args.requests or (100 if args.quick else 200)
    depth = rows // 2

    with (
        tempfile.TemporaryDirectory(prefix="ia-bench-timeline-") as tmp,
        fresh_postgres_database("ia_bench_timeline") as url,
    ):
        data_dir = Path(tmp) / "pg"
        cli(server_env(data_dir, {"DATABASE_URL": url}), "db", "upgrade")
        with running_server(data_dir, {"DATABASE_URL": url}) as server:
            owner = owner_with_device(server)
            heading(f"loading {rows:,} photos for one user with SQL")
            seconds = load_photos(url, owner.user_id, owner.device_id, rows)
            print(f"  loaded and analyzed in {seconds:.1f} s")

            deep, expected_first = deep_cursor(url, owner.user_id, depth)
            with server.client(owner.user_token) as http:
                page = http.get("/api/photos", params={"limit": PAGE, "cursor": deep}).json()
            if page["photos"][0]["id"] != expected_first:
                print("  warning: the deep page does not start at the expected row")

            heading(f"GET /api/photos?limit={PAGE}: {requests} requests per page, alternating, after warm-up")
            print(f"  ({load_average()})")
            cpu = CpuMeter(server.pid, url)
            cpu.start()
            timings = time_pages(server, owner.user_token, deep, requests, warmup=20)
            spent = cpu.stop()
            calls = 2 * (requests + 20)
            print(
                f"  CPU per request (both pages): server {spent['server'] / calls * 1000:.2f} ms,"
                f" PostgreSQL backend {spent['database'] / calls * 1000:.2f} ms"
            )
            summary: dict[str, tuple[float, float]] = {}
            for name, label in (("first", "first page"), ("deep", f"page {depth:,} rows deep")):
                values = timings[name]
                summary[name] = (median(values), percentile(values, 99))
                print(
                    f"  {label:<24} p50 {summary[name][0]:6.2f} ms   p99 {summary[name][1]:6.2f} ms"
                    f"   (min {min(values):.2f}, max {max(values):.2f})"
                )

            print(f"  ({load_average()} after)")
            heading("EXPLAIN (ANALYZE, BUFFERS) of the deep page's query")
            plan = explain_deep_page(url, owner.user_id, deep)
            for line in plan:
                if any(word in line for word in ("Limit", "Scan", "Index Cond", "Filter", "Buffers", "Time")):
                    print(f"  {line.strip()}")

    p99 = max(summary["first"][1], summary["deep"][1])
    ratio_p50 = summary["deep"][0] / summary["first"][0]
    ratio_p99 = summary["deep"][1] / summary["first"][1]
    heading("summary")
    print(
        f"  p99 (worse of the two pages) {p99:.2f} ms vs target < {TARGET_P99_MS:.0f} ms"
        f" -> {verdict(p99 < TARGET_P99_MS)}"
    )
    print(
        f"  deep/first: p50 {ratio_p50:.2f}x, p99 {ratio_p99:.2f}x vs target <= {TARGET_DEEP_RATIO}x"
        f" -> {verdict(ratio_p50 <= TARGET_DEEP_RATIO and ratio_p99 <= TARGET_DEEP_RATIO)}"
    )
    index_used = any("ix_photos_timeline" in line for line in plan)
    print(f"  deep page query uses ix_photos_timeline: {'yes' if index_used else 'NO'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
