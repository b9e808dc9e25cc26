"""Search and month counts at scale: GET /api/photos?q=... and GET /api/photos/months latency.

A fresh database (PostgreSQL by default, or SQLite) is migrated with `image-assistant db upgrade`;
one user and one paired device are made through the API; N photo rows with realistic facts
(titles from a word list, two keywords, a person on one in three, a place on one in two, three
in a hundred in bursts of three frames, the folded search text the ingest path writes) are
loaded directly with SQL, shuffled in capture time, their month counts filled as migration 0021
fills them, and ANALYZEd. Then, over HTTP on one keep-alive connection, each query is timed:

- the plain first page (the baseline, measured in the same run),
- a one-word search, a two-word search, a search + favorite filter + date range,
- the month counts of the whole library (the scrubber's rail, from the stored counts), and
  beside it the same counts with a filter that keeps every photo (`from=1970-01-01`): counted
  over the photos, as every month count was before migration 0021 (every tenth round only:
  it takes seconds at 1,000,000 photos).

Targets (issue 14): on PostgreSQL at 1,000,000 photos, p99 < 50 ms for the three searches and
< 30 ms for the month counts. SQLite is reported at 100,000. Beside the wall times, each query's
median CPU per request, of the server and the database's backends together (Linux schedstat):
a figure that holds when other work shares the machine's two cores, as it often does.

    .venv/bin/python bench/search.py                        # PostgreSQL, 1,000,000 rows
    .venv/bin/python bench/search.py --rows 200000          # fewer rows when time is short
    .venv/bin/python bench/search.py --backend sqlite       # SQLite, 100,000 rows
    .venv/bin/python bench/search.py --keep ia_search_1m    # load once into a kept database;
                                                            # later runs reuse it (migrated anew)
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from harness import (  # noqa: E402
    ADMIN_PASSWORD,
    POSTGRES_ADMIN_URL,
    CpuMeter,
    Owner,
    Server,
    cli,
    cpu_ns,
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

from image_assistant.core.search import fold  # noqa: E402

TARGET_SEARCH_P99_MS = 50.0
TARGET_MONTHS_MS = 30.0
CHUNK = 50_000
SHUFFLE = 7919

TITLE_WORDS = (
    "sunset beach mountain lake forest city street market festival wedding birthday dinner picnic "
    "garden harbour bridge castle museum river snow autumn spring summer winter morning evening "
    "night concert party hike trail island village cathedral vineyard desert canyon waterfall "
    "sunrise rain storm fog train station airport road trip school graduation family friends"
).split()
KEYWORDS = [
    f"{a}{b}" for a in ("blue", "red", "old", "new", "big", "tiny", "wild", "calm") for b in TITLE_WORDS[:25]
]
PEOPLE = [
    f"{first} {last}"
    for first in ("Zoé", "Ana", "Léo", "Mia", "Noah", "Émile", "Lucía", "Oskar", "Inès", "Yuki")
    for last in ("Martin", "García", "Dubois", "Müller", "Rossi", "Tanaka", "Novak", "Silva", "Khan", "Berg")
]
PLACES = [
    (city, country)
    for city, country in (
        ("Paris", "France"),
        ("Lyon", "France"),
        ("Marseille", "France"),
        ("Berlin", "Germany"),
        ("München", "Germany"),
        ("Roma", "Italy"),
        ("Milano", "Italy"),
        ("Madrid", "Spain"),
        ("Sevilla", "Spain"),
        ("Lisboa", "Portugal"),
        ("Porto", "Portugal"),
        ("Wien", "Austria"),
        ("Zürich", "Switzerland"),
        ("Genève", "Switzerland"),
        ("Praha", "Czechia"),
        ("Kraków", "Poland"),
        ("Kyoto", "Japan"),
        ("Tokyo", "Japan"),
        ("Reykjavík", "Iceland"),
        ("Québec", "Canada"),
    )
]

QUERIES = {
    "first page (baseline)": {"limit": 100},
    "one word: 'sunset'": {"limit": 100, "q": "sunset"},
    "two words: 'zoe mar'": {"limit": 100, "q": "zoe mar"},
    "q + favorite + dates": {
        "limit": 100,
        "q": "beach",
        "favorite": "true",
        "from": "2016-01-01",
        "to": "2018-12-31",
    },
}
BASELINES = ("first page (baseline)", "month counts, counted")
SLOW = ("month counts, counted",)
MONTHS = {
    "month counts": {},
    "month counts, counted": {"from": "1970-01-01"},
}
MIGRATION_0021 = Path(__file__).resolve().parent.parent / (
    "src/image_assistant/db/migrations/versions/0021_month_counts.py"
)


def fill_months(dialect: str) -> str:
    """The statement migration 0021 fills month_counts with (the rows here skip the server)."""
    spec = importlib.util.spec_from_file_location("migration_0021", MIGRATION_0021)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    return str(migration.FILL.format(month=migration.MONTH[dialect]))


def photo_rows(count: int, user_id: str, device_id: str, start: int) -> list[dict[str, Any]]:
    """Rows start..start+CHUNK of the library, deterministic for a given i."""
    rows = []
    origin = datetime(2012, 1, 1, tzinfo=UTC)
    for i in range(start, min(start + CHUNK, count)):
        rnd = random.Random(i)
        title = " ".join(rnd.sample(TITLE_WORDS, 2))
        keywords = rnd.sample(KEYWORDS, 2)
        persons = [rnd.choice(PEOPLE)] if i % 3 == 0 else []
        place = rnd.choice(PLACES) if i % 2 == 0 else None
        filename = f"IMG_{i:07d}.HEIC"
        burst = f"BURST-{i // 100}" if i % 100 < 3 else None  # frames taken apart here: a worst case
        words = [filename, title, *keywords, *persons, *(place or ())]
        at = origin + timedelta(seconds=(i * SHUFFLE % count) * (12 * 365 * 86400 // count))  # 12 years
        rows.append(
            {
                "id": uuid.uuid4(),
                "user": user_id,
                "device": device_id,
                "uuid": str(uuid.uuid4()).upper(),
                "filename": filename,
                "at": at,
                "favorite": i % 20 == 0,
                "title": title.capitalize(),
                "keywords": keywords,
                "persons": persons,
                "place": None if place is None else {"name": place[0], "city": place[0], "country": place[1]},
                "search_text": fold(" ".join(words)),
                "burst_id": burst,
                "burst_key": i % 100 == 1,
            }
        )
    return rows


PG_INSERT = """
INSERT INTO photos (id, user_id, device_id, photos_uuid, filename, content_type, media_type, width, height,
    file_size, taken_at, taken_tz_offset, sort_at, is_favorite, is_hidden, thumbnail_status, created_at,
    updated_at, title, keywords, persons, place, subtypes, search_text, burst_id, burst_key)
VALUES (%(id)s, %(user)s, %(device)s, %(uuid)s, %(filename)s, 'image/heic', 'photo', 4032, 3024, 2000000,
    %(at)s, 0, %(at)s, %(favorite)s, false, 'completed', now(), now(), %(title)s, %(keywords)s, %(persons)s,
    %(place)s, '[]', %(search_text)s, %(burst_id)s, %(burst_key)s)
"""


def load_postgres(url: str, owner: Any, count: int) -> None:
    from psycopg.types.json import Json

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET synchronous_commit = off")
        started = time.perf_counter()
        for start in range(0, count, CHUNK):
            rows = photo_rows(count, owner.user_id, owner.device_id, start)
            for row in rows:
                row["keywords"], row["persons"], row["place"] = (
                    Json(row["keywords"]),
                    Json(row["persons"]),
                    Json(row["place"]),
                )
            with conn.cursor() as cur:
                cur.executemany(PG_INSERT, rows)
            print(f"  {start + len(rows):>9,} rows  {time.perf_counter() - started:6.1f} s", flush=True)
        conn.execute(fill_months("postgresql"))
        conn.execute("VACUUM (ANALYZE) photos")
        conn.execute("VACUUM (ANALYZE) month_counts")


SQLITE_INSERT = """
INSERT INTO photos (id, user_id, device_id, photos_uuid, filename, content_type, media_type, width,
    height, file_size, taken_at, taken_tz_offset, sort_at, is_favorite, is_hidden, thumbnail_status,
    thumbnail_attempts, created_at, updated_at, title, keywords, persons, place, subtypes, search_text,
    burst_id, burst_key)
VALUES (?, ?, ?, ?, ?, 'image/heic', 'photo', 4032, 3024, 2000000, ?, 0, ?, ?, 0, 'completed', 0,
    ?, ?, ?, ?, ?, ?, '[]', ?, ?, ?)
"""


def load_sqlite(path: Path, owner: Any, count: int) -> None:
    import json

    conn = sqlite3.connect(path)
    started = time.perf_counter()
    for start in range(0, count, CHUNK):
        rows = photo_rows(count, owner.user_id, owner.device_id, start)
        conn.executemany(
            SQLITE_INSERT,
            [
                (
                    r["id"].hex,
                    uuid.UUID(r["user"]).hex,
                    uuid.UUID(r["device"]).hex,
                    r["uuid"],
                    r["filename"],
                    r["at"].strftime("%Y-%m-%d %H:%M:%S.%f"),
                    r["at"].strftime("%Y-%m-%d %H:%M:%S.%f"),
                    int(r["favorite"]),
                    r["at"].strftime("%Y-%m-%d %H:%M:%S.%f"),
                    r["at"].strftime("%Y-%m-%d %H:%M:%S.%f"),
                    r["title"],
                    json.dumps(r["keywords"]),
                    json.dumps(r["persons"]),
                    json.dumps(r["place"]),
                    r["search_text"],
                    r["burst_id"],
                    int(r["burst_key"]),
                )
                for r in rows
            ],
        )
        conn.commit()
        print(f"  {start + len(rows):>9,} rows  {time.perf_counter() - started:6.1f} s", flush=True)
    # Ingest adds a batch's new photos to the word index itself (migration 0023): rows loaded
    # here are indexed all at once, as migration 0020 filled it.
    conn.execute("INSERT INTO photo_search(photo_search) VALUES ('rebuild')")
    conn.execute(fill_months("sqlite"))
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()


@contextmanager
def kept_postgres_database(name: str) -> Iterator[tuple[str, bool]]:
    """The database `name` on the local PostgreSQL, made when missing and never dropped; with
    whether it was there already (loaded by an earlier run)."""
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        there = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if there is None:
            conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}", there is not None


def kept_owner(server: Server, url: str, rows: int) -> Owner:
    """The bench user of a kept database, signed in again with a new password."""
    with psycopg.connect(url) as conn:
        found = conn.execute(
            "SELECT u.id, u.username, count(p.id) FROM users u JOIN photos p ON p.user_id = u.id "
            "WHERE u.username LIKE 'bench%%' GROUP BY u.id, u.username"
        ).fetchall()
    if len(found) != 1 or found[0][2] != rows:
        held = ", ".join(f"{name}: {count:,}" for _, name, count in found) or "none"
        raise SystemExit(
            f"the kept database holds other than {rows:,} photos ({held}): drop it or use --rows"
        )
    user_id, username, _ = found[0]
    password = ADMIN_PASSWORD + "-owner"
    cli(server.env, "users", "passwd", username, input=password + "\n")
    with server.client() as http:
        response = http.post("/api/auth/login", json={"username": username, "password": password})
        response.raise_for_status()
    return Owner(username, str(user_id), response.json()["token"], "", "")


@dataclass
class Timings:
    """Per query: each request's wall time, and the CPU the server and PostgreSQL spent on it
    (which holds when other work shares the cores), in ms."""

    wall: dict[str, list[float]]
    cpu: dict[str, list[float]]


def time_queries(server: Server, token: str, requests: int, warmup: int, database_url: str | None) -> Timings:
    names = [*QUERIES, *MONTHS]
    timings = Timings({name: [] for name in names}, {name: [] for name in names})
    asked = [
        *(("/api/photos", name, params) for name, params in QUERIES.items()),
        *(("/api/photos/months", name, params) for name, params in MONTHS.items()),
    ]
    answers: dict[str, Any] = {}
    meter = CpuMeter(server.pid, database_url)
    pids: list[int] = []
    with server.client(token) as http:
        for round_ in range(warmup + requests):
            if round_ == warmup:
                pids = meter.pids()  # the pool's connections are open by now
            for path, name, params in asked:
                if name in SLOW and round_ % 10:
                    continue  # the counted month counts take seconds: every tenth round
                cpu = cpu_ns(pids)
                started = time.perf_counter()
                response = http.get(path, params=params)
                elapsed = (time.perf_counter() - started) * 1000
                cpu_ms = (cpu_ns(pids) - cpu) / 1e6
                if response.status_code != 200:
                    raise RuntimeError(f"{name}: {response.status_code} {response.text[:200]}")
                if round_ == 0:
                    body = response.json()
                    answers[name] = body.get("photos", body.get("months"))
                    print(f"  {name:<28} answers {len(answers[name])} {path.rsplit('/', 1)[-1]}")
                if round_ >= warmup:
                    timings.wall[name].append(elapsed)
                    timings.cpu[name].append(cpu_ms)
    if empty := [name for name in QUERIES if not answers[name]]:
        raise RuntimeError(f"no photo answers {', '.join(empty)}: the bench would time nothing")
    if answers["month counts"] != answers["month counts, counted"]:
        raise RuntimeError("the stored month counts differ from the counted ones")
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument(
        "--keep",
        metavar="DBNAME",
        help="PostgreSQL: load into this database and keep it; a later run with the same name "
        "reuses its photos (after `db upgrade`) instead of loading them again",
    )
    args = parser.parse_args()
    rows = args.rows or (1_000_000 if args.backend == "postgres" else 100_000)

    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ia-bench-search-")))
        data_dir = tmp / args.backend
        extra: dict[str, str] = {}
        kept = False
        if args.backend == "postgres" and args.keep:
            extra["DATABASE_URL"], kept = stack.enter_context(kept_postgres_database(args.keep))
        elif args.backend == "postgres":
            extra["DATABASE_URL"] = stack.enter_context(fresh_postgres_database("ia_bench_search"))
        cli(server_env(data_dir, extra), "db", "upgrade")
        server = stack.enter_context(running_server(data_dir, extra, admin_exists=kept))
        if kept:
            owner = kept_owner(server, extra["DATABASE_URL"], rows)
            heading(f"reusing the {rows:,} photos of the kept database {args.keep}")
        else:
            owner = owner_with_device(server)
            heading(f"loading {rows:,} photos with facts for one user ({args.backend})")
            if args.backend == "postgres":
                load_postgres(extra["DATABASE_URL"], owner, rows)
            else:
                database = next(data_dir.rglob("*.db"), None) or next(data_dir.rglob("*.sqlite*"))
                load_sqlite(database, owner, rows)
        heading(f"{args.requests} rounds of every query, after 10 warm-up rounds ({load_average()})")
        timings = time_queries(server, owner.user_token, args.requests, 10, extra.get("DATABASE_URL"))
        baseline = median(timings.wall["first page (baseline)"])
        heading(f"results ({load_average()})")
        for name, values in timings.wall.items():
            p50, p99, cpu = median(values), percentile(values, 99), median(timings.cpu[name])
            target = TARGET_MONTHS_MS if name == "month counts" else TARGET_SEARCH_P99_MS
            check = "" if name in BASELINES else f" target < {target:.0f} -> {verdict(p99 < target)}"
            print(
                f"  {name:<28} p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  cpu {cpu:7.2f} ms"
                f"  ({p50 / baseline:4.1f}x baseline){check}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
