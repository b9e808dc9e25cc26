"""Export: 10,000 photos out of a local store against `cp -r` of the same objects.

A library of N photos with random originals (--size bytes each; a fifth of them in 20 albums,
so each photo is exported once) is written to a local store with its rows
(bench/stored_library.py), and each original's sidecar beside it as the worker writes them, so
`cp -r` of `originals/` and the export copy the same bytes and make as many files. Each round
times, alternately, `ops.export.export` in this process (what `image-assistant export` runs
after start-up: the plan from the database, every file copied, every sidecar written) into an
empty folder and `cp -r` of the store's `originals/` into another. Sources come from the page
cache on both sides, and each timed step starts after a `sync`, so neither pays for writing
back the other's files.
Target (issue 12): export at least 0.8 of cp -r's speed (ratio = cp s / export s).
A second export into a finished folder (the resume check) is timed too.

    .venv/bin/python bench/export.py                  # 10,000 x 128 KiB, 3 rounds
    .venv/bin/python bench/export.py --count 2000     # smaller
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import heading, load_average, machine_speed, median, verdict  # noqa: E402
from stored_library import StoredLibrary, build  # noqa: E402

from image_assistant.core.sidecars import refresh_all  # noqa: E402
from image_assistant.ops import export  # noqa: E402

TARGET_RATIO = 0.8
ALBUMS = 20


def no_progress(total: int) -> export.Advance:
    return lambda count, size: None


def time_export(library: StoredLibrary, dest: Path, jobs: int) -> tuple[float, export.Report]:
    os.sync()  # no step starts with the previous one's dirty pages still to write
    started = time.perf_counter()
    report = export.export(
        sessions=library.sessions,
        store=library.store,
        users=[(library.user_id, dest)],
        jobs=jobs,
        on_start=no_progress,
    )
    return time.perf_counter() - started, report


def time_cp(library: StoredLibrary, dest: Path) -> float:
    os.sync()
    started = time.perf_counter()
    subprocess.run(["cp", "-r", str(library.root / "originals"), str(dest)], check=True)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--size", type=int, default=128 * 1024, help="bytes per original")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--jobs", default="4", help="export's --jobs; several (1,4) are timed alternately in each round"
    )
    args = parser.parse_args()

    print(load_average())
    print(machine_speed())
    with tempfile.TemporaryDirectory(prefix="ia-bench-export-") as tmp:
        heading(f"writing {args.count:,} originals of {args.size:,} bytes")
        started = time.perf_counter()
        per_album = args.count // 5 // ALBUMS
        library = build(
            Path(tmp) / "data", count=args.count, size=args.size, albums=ALBUMS, per_album=per_album
        )
        sidecars = refresh_all(library.sessions, library.store)  # what the worker's sweep writes
        seconds = time.perf_counter() - started
        print(f"  {library.bytes / 1e6:.0f} MB and {sidecars:,} sidecars in {seconds:.1f} s")
        if sidecars != args.count:
            raise RuntimeError(f"{sidecars} sidecars written for {args.count} photos")

        jobs = [int(value) for value in args.jobs.split(",")]
        heading(f"export (--jobs {args.jobs}) against cp -r, {args.rounds} rounds")
        time_cp(library, Path(tmp) / "warm")  # the sources into the page cache
        shutil.rmtree(Path(tmp) / "warm")
        ours: dict[int, list[float]] = {value: [] for value in jobs}
        baseline, resumes = [], []
        for number in range(1, args.rounds + 1):
            for value in jobs:
                dest = Path(tmp) / "export"
                seconds, report = time_export(library, dest, value)
                if report.copied != args.count or report.missing:
                    raise RuntimeError(f"export copied {report.copied} of {args.count}")
                ours[value].append(seconds)
                resumes.append(time_export(library, dest, value)[0])
                shutil.rmtree(dest)
            baseline.append(time_cp(library, Path(tmp) / "copy"))
            shutil.rmtree(Path(tmp) / "copy")
            timed = ", ".join(f"export --jobs {value} {ours[value][-1]:.2f} s" for value in jobs)
            print(f"  round {number}: {timed}, cp -r {baseline[-1]:.2f} s", flush=True)
        print(f"  cp -r median {median(baseline):.2f} s")
        print(f"  second export into the finished folder: {median(resumes):.2f} s")
        for value in jobs:
            ratio = median(baseline) / median(ours[value])
            rate = library.bytes / 1e6 / median(ours[value])
            print(
                f"  --jobs {value}: export median {median(ours[value]):.2f} s ({rate:.0f} MB/s), "
                f"ratio {ratio:.2f} (target >= {TARGET_RATIO}): {verdict(ratio >= TARGET_RATIO)}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
