"""Thumbnail throughput: our pipeline against sharp and Pillow on one core, and the decode floor.

    .venv/bin/python bench/thumbnails.py [--rounds 5] [--quality 82] [--jpeg-only]

Inputs: every fixture JPEG original (../shared/fixtures/photos-libraries/*/originals) and every
edited version Photos rendered of them (*/resources/renders: Display P3), the same files for every
contender; the five sizes each: JPEG 1200, 600, 200 px wide and AVIF 640, 400 (quality 45, effort
0) for the grid; --jpeg-only makes the three JPEG sizes alone (the workload issue 14 first
measured). Each contender runs in its own process pinned to one core with one libvips thread,
after a warm-up round; figures are medians over the rounds.

- ours:   image_assistant.thumbnails.render (decode once, scaled on load, each size from the next larger)
- sharp:  sharp from the npm registry (installed into bench/node/node_modules by this script),
          one pipeline per size as the original Node worker did, with sharp's defaults (which
          optimise Huffman tables); and once more with the encoder settings ours uses (no
          Huffman optimisation: 1.3 % larger files on these inputs, 15 % less CPU)
- pillow: Image.open / exif_transpose / resize / save, once per size
- floor:  decode alone at the smallest scale that keeps 1200 px (no resize, no encode), the most
          any pipeline can do: libvips' shrink-on-load (halves) and libjpeg-turbo's scaled decode
          by eighths (simplejpeg, what ours uses); the verdict is against the faster of the two

Then our pipeline with 1..N worker processes (N = cores), one core each, to show it scales.
With --against SRC (another checkout's src/), that code's pipeline runs too, in the same run, as
"ours, --against": a before/after on the same machine load.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
NODE_DIR = REPO / "bench" / "node"
WIDTHS = (1200, 600, 200)
AVIF_WIDTHS = (640, 400)
AVIF_QUALITY = 45  # THUMBNAIL_AVIF_QUALITY's default


def _jpeg_only() -> bool:
    return os.environ.get("BENCH_JPEG_ONLY") == "1"


def fixture_jpegs() -> list[Path]:
    shared = Path(os.environ.get("IA_SHARED_DIR", REPO.parent / "shared"))
    libraries = shared / "fixtures" / "photos-libraries"
    files = sorted(libraries.glob("*/originals/*/*.jpeg"))
    files += sorted(libraries.glob("*/resources/renders/*/*.jpeg"))
    if not files:
        sys.exit(f"no fixture JPEGs under {shared}/fixtures/photos-libraries")
    return files


# ---------------------------------------------------------------- contenders (run in a child process)


def run_ours(files: list[Path], quality: int) -> None:
    from image_assistant.store.keys import AVIF_SIZES, THUMBNAIL_SIZES
    from image_assistant.thumbnails.render import render_thumbnails

    sizes = [size for size in THUMBNAIL_SIZES if not (_jpeg_only() and size in AVIF_SIZES)]
    for path in files:
        render_thumbnails(path, sizes, quality=quality, avif_quality=AVIF_QUALITY)


def run_pillow(files: list[Path], quality: int) -> None:
    from PIL import Image, ImageOps

    for path in files:
        for width in WIDTHS:
            with Image.open(path) as image:
                upright = ImageOps.exif_transpose(image) or image
                if upright.width > width:
                    height = round(upright.height * width / upright.width)
                    upright = upright.resize((width, height), Image.Resampling.LANCZOS)
                upright.convert("RGB").save(io.BytesIO(), "JPEG", quality=quality, optimize=True)
        for width in () if _jpeg_only() else AVIF_WIDTHS:
            with Image.open(path) as image:
                upright = ImageOps.exif_transpose(image) or image
                if upright.width > width:
                    height = round(upright.height * width / upright.width)
                    upright = upright.resize((width, height), Image.Resampling.LANCZOS)
                upright.convert("RGB").save(io.BytesIO(), "AVIF", quality=AVIF_QUALITY, speed=9)


def run_floor(files: list[Path], quality: int) -> None:
    import pyvips

    for path in files:
        header = pyvips.Image.new_from_file(str(path))
        shrink = 1
        while shrink < 8 and _upright_width(header) // (shrink * 2) >= WIDTHS[0]:
            shrink *= 2
        pyvips.Image.new_from_file(str(path), shrink=shrink, access="sequential").copy_memory()


def run_floor_eighths(files: list[Path], quality: int) -> None:
    import pyvips
    import simplejpeg

    for path in files:
        header = pyvips.Image.new_from_file(str(path))
        turned = _upright_width(header) != header.width
        at_least = {"min_height": WIDTHS[0]} if turned else {"min_width": WIDTHS[0]}
        simplejpeg.decode_jpeg(path.read_bytes(), "RGB", **at_least)


def _upright_width(header: Any) -> int:
    orientation = header.get("orientation") if header.get_typeof("orientation") else 1
    return int(header.height if orientation in (5, 6, 7, 8) else header.width)


CONTENDERS = {"ours": run_ours, "pillow": run_pillow, "floor": run_floor, "floor-eighths": run_floor_eighths}


def child(name: str, rounds: int, quality: int, files: list[Path]) -> None:
    """Time `rounds` passes over `files` after one warm-up; print the seconds as JSON."""
    import pyvips

    pyvips.cache_set_max(0)
    work = CONTENDERS[name]
    work(files, quality)
    seconds, cpu = [], []
    for _ in range(rounds):
        start, used = time.perf_counter(), time.process_time()
        work(files, quality)
        seconds.append(time.perf_counter() - start)
        cpu.append(time.process_time() - used)
    print(json.dumps({"seconds": seconds, "cpu": cpu}))


# ---------------------------------------------------------------- the parent: spawn, pin, report


def one_core_env(src: Path = REPO / "src") -> dict[str, str]:
    env = dict(os.environ, VIPS_CONCURRENCY="1", UV_THREADPOOL_SIZE="1", OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = str(src)
    return env


def pinned(command: list[str], core: int) -> list[str]:
    return ["taskset", "-c", str(core), *command] if shutil.which("taskset") else command


def spawn_python(
    name: str, rounds: int, quality: int, files: list[Path], core: int, src: Path = REPO / "src"
) -> subprocess.Popen[str]:
    command = [sys.executable, __file__, "--child", name, "--rounds", str(rounds), "--quality", str(quality)]
    return subprocess.Popen(
        pinned(command + [str(f) for f in files], core),
        env=one_core_env(src),
        stdout=subprocess.PIPE,
        text=True,
    )


def ensure_sharp() -> None:
    if (NODE_DIR / "node_modules" / "sharp").is_dir():
        return
    if not shutil.which("npm"):
        sys.exit("sharp needs Node.js and npm on PATH")
    print("installing sharp from the npm registry into bench/node/node_modules ...", flush=True)
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NODE_DIR, check=True
    )


Timing = dict[str, list[float]]  # "seconds" (wall clock) and "cpu" (CPU seconds), per round


def timing_of(process: subprocess.Popen[str]) -> Timing:
    out, _ = process.communicate()
    if process.returncode != 0:
        sys.exit(f"a benchmark child failed (exit {process.returncode})")
    found: Timing = json.loads(out.strip().splitlines()[-1])
    return found


def run_sharp(rounds: int, quality: int, files: list[Path], *, optimise: bool) -> Timing:
    ensure_sharp()
    script = str(NODE_DIR / "thumbnails.mjs")
    avif = str(not _jpeg_only()).lower()
    command = ["node", script, str(rounds + 1), str(quality), str(optimise).lower(), avif, *map(str, files)]
    result = subprocess.run(
        pinned(command, 0), env=one_core_env(), capture_output=True, text=True, check=True
    )
    found = json.loads(result.stdout)
    return {"seconds": found["seconds"][1:], "cpu": found["cpu"][1:]}  # the first round warms up


def photos_per_second(count: int, seconds: list[float]) -> float:
    return count / statistics.median(seconds)


LABELS = {
    "ours": "ours (pyvips, decode once)",
    "against": "ours, --against",
    "sharp": "sharp, one pipeline per size",
    "sharp-plain": "  same, without Huffman optimisation",
    "pillow": "Pillow, open/resize/save per size",
    "floor": "floor: libvips decode (halves)",
    "floor-eighths": "floor: libjpeg-turbo decode (eighths)",
}


def report(rounds: int, quality: int, against: Path | None) -> None:
    files = fixture_jpegs()
    avif = "no AVIF (--jpeg-only)" if _jpeg_only() else f"2 AVIF at {AVIF_QUALITY}"
    print(
        f"{len(files)} fixture JPEGs, {_edits(files)} of them edited versions ({_megapixels(files):.0f} Mpx"
        f" in all), 3 JPEG sizes each at quality {quality}, {avif}"
    )
    print(f"one core (taskset), one libvips thread, median of {rounds} rounds after a warm-up")
    print(f"load average before: {_load()} on {_cores()} cores\n")
    timings: dict[str, Timing] = {}
    for name in ("ours", "pillow", "floor", "floor-eighths"):
        timings[name] = timing_of(spawn_python(name, rounds, quality, files, 0))
    if against:
        timings["against"] = timing_of(spawn_python("ours", rounds, quality, files, 0, against))
    timings["sharp"] = run_sharp(rounds, quality, files, optimise=True)
    timings["sharp-plain"] = run_sharp(rounds, quality, files, optimise=False)
    # CPU seconds measure the work itself even on a shared machine; wall clock is what a user sees.
    for clock, title in (("cpu", "per CPU-second"), ("seconds", "per wall-clock second")):
        rates = {name: photos_per_second(len(files), t[clock]) for name, t in timings.items()}
        print(f"{'photos ' + title:<36} {'photos/s':>9} {'ours is':>9}")
        for name in ("ours", "against", "sharp", "sharp-plain", "pillow", "floor", "floor-eighths"):
            if name not in rates:
                continue
            print(f"{LABELS[name]:<36} {rates[name]:>9.2f} {rates['ours'] / rates[name]:>8.2f}x")
        sharp_met = "met" if rates["ours"] >= 2.5 * rates["sharp"] else "NOT met"
        floor = rates["ours"] / max(rates["floor"], rates["floor-eighths"])
        floor_met = "met" if floor >= 0.5 else "NOT met"
        print(
            f"ours is {floor:.0%} of the decode-only floor (≥ 50 %: {floor_met}); ≥ 2.5x sharp: {sharp_met}"
        )
        print()
    scaling(rounds, quality, files)
    print(f"load average after: {_load()}")


def scaling(rounds: int, quality: int, files: list[Path]) -> None:
    """Our pipeline in 1..cores processes side by side, one core each (wall clock)."""
    print("our pipeline, one process per core, side by side (wall clock):")
    print(f"{'workers':>8} {'photos/s':>9} {'vs 1':>6}")
    single = 0.0
    for workers in range(1, _cores() + 1):
        children = [spawn_python("ours", rounds, quality, files, core) for core in range(workers)]
        rate = sum(photos_per_second(len(files), timing_of(p)["seconds"]) for p in children)
        single = single or rate
        print(f"{workers:>8} {rate:>9.2f} {rate / single:>5.2f}x")


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _load() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def _edits(files: list[Path]) -> int:
    return sum(1 for f in files if f.parent.parent.name == "renders")


def _megapixels(files: list[Path]) -> float:
    import pyvips

    images = [pyvips.Image.new_from_file(str(f)) for f in files]
    return sum(image.width * image.height for image in images) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quality", type=int, default=82)
    parser.add_argument("--against", type=Path, help="another checkout's src/ to time beside ours")
    parser.add_argument("--jpeg-only", action="store_true", help="the three JPEG sizes alone, no AVIF")
    parser.add_argument("--child", choices=sorted(CONTENDERS), help=argparse.SUPPRESS)
    parser.add_argument("files", nargs="*", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.jpeg_only:
        os.environ["BENCH_JPEG_ONLY"] = "1"  # the children inherit it
    if args.child:
        child(args.child, args.rounds, args.quality, args.files)
    else:
        report(args.rounds, args.quality, args.against)


if __name__ == "__main__":
    main()
