"""Publishing: rendition throughput against sharp, five presets at once, and a 200-photo zip.

    .venv/bin/python bench/publish.py [--rounds 3] [--photos 200] [--skip-zip] [--skip-renditions]
        [--inputs DIR]

1. web-2048 from 12-MP JPEGs (4032x3024, made here or kept in --inputs, with noise so they code
   like photos) and HEICs: photos per CPU-second, ours (core.renditions.render) against sharp
   doing the same resize + strip + sRGB (one pipeline per photo, bench/node/publish.mjs); one
   core and one libvips thread each. The contenders take turns, ROUNDS times (a warm-up and two
   timed passes each turn), so a change in the machine's load falls on both; medians of all
   timed passes. Then the same from the same pixels saved as a phone saves a portrait photo
   (EXIF orientation 6, Display P3 profile): sharp converts the colour before it shrinks, we
   after. sharp's prebuilt libvips has no HEVC decoder: the HEIC figure is ours alone.
2. All five built-in presets of each photo at once (one decode, the cascade; original-clean
   of an upright sRGB JPEG is not decoded at all) against web-2048 alone: ratio of wall and of
   CPU times (CPU time is the steadier figure on a loaded machine).
3. A zip of PHOTOS original-clean photos (about 1 GB) from a real `image-assistant serve
   --no-worker` (SQLite + local store; the thumbnail worker would run elsewhere): the API
   process's RSS before, and its peak sampled every 20 ms while it streams, and the
   zip's throughput against reading the same objects (in this process from the store, and
   over HTTP from the same server).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))

from thumbnails import NODE_DIR, ensure_sharp, one_core_env, pinned  # noqa: E402

QUALITY = 85


Inputs = tuple[list[Path], list[Path], list[Path]]  # plain JPEGs, phone JPEGs, HEICs


def make_inputs(folder: Path, jpegs: int, heics: int, phone: int = 0) -> Inputs:
    """12-MP photos: upright sRGB JPEGs, the same pixels as a phone saves a portrait photo
    (EXIF orientation 6 and a Display P3 profile), and HEICs; kept in `folder` between runs."""
    import pillow_heif
    import pyvips

    folder.mkdir(parents=True, exist_ok=True)
    kept = tuple(sorted(folder.glob(pattern)) for pattern in ("photo-*.jpg", "phone-*.jpg", "photo-*.heic"))
    if tuple(map(len, kept)) == (jpegs, phone, heics):
        return kept
    made: Inputs = ([], [], [])
    for i in range(max(jpegs, heics, phone)):
        base = pyvips.Image.xyz(4032, 3024)
        image = (base[0] * (0.04 + i * 0.005) + base[1] * 0.05).bandjoin(
            [base[1] * 0.06, base[0] * 0.03 + 40]
        )
        image = (
            (image + pyvips.Image.gaussnoise(4032, 3024, sigma=18)).cast("uchar").copy(interpretation="srgb")
        )
        if i < jpegs:
            path = folder / f"photo-{i:02d}.jpg"
            image.jpegsave(str(path), Q=92)
            made[0].append(path)
        if i < phone:
            path = folder / f"phone-{i:02d}.jpg"
            turned = image.copy()
            turned.set_type(pyvips.GValue.gint_type, "orientation", 6)
            turned.jpegsave(str(path), Q=92, profile="p3")
            made[1].append(path)
        if i < heics:
            path = folder / f"photo-{i:02d}.heic"
            pixels = image.write_to_memory()
            heif = pillow_heif.from_bytes(mode="RGB", size=(4032, 3024), data=pixels)
            heif.save(str(path), quality=85)
            made[2].append(path)
    return made


def child(kind: str, rounds: int, files: list[Path]) -> None:
    import pyvips

    from image_assistant.core.presets import BUILTIN
    from image_assistant.core.renditions import render

    pyvips.cache_set_max(0)
    chosen = [BUILTIN["web-2048"]] if kind == "web" else list(BUILTIN.values())

    def work() -> None:
        for path in files:
            render(path, chosen)

    work()
    seconds, cpu = [], []
    for _ in range(rounds):
        start, used = time.perf_counter(), time.process_time()
        work()
        seconds.append(time.perf_counter() - start)
        cpu.append(time.process_time() - used)
    print(json.dumps({"seconds": seconds, "cpu": cpu}))


Timing = dict[str, list[float]]  # "seconds" (wall clock) and "cpu" (CPU seconds), per timed pass


def run_child(kind: str, rounds: int, files: list[Path]) -> Timing:
    command = [sys.executable, __file__, "--child", kind, "--rounds", str(rounds), *map(str, files)]
    out = subprocess.run(pinned(command, 0), env=one_core_env(), capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_sharp(rounds: int, files: list[Path]) -> Timing:
    ensure_sharp()
    command = ["node", str(NODE_DIR / "publish.mjs"), str(rounds + 1), str(QUALITY), *map(str, files)]
    out = subprocess.run(pinned(command, 0), env=one_core_env(), capture_output=True, text=True, check=True)
    found = json.loads(out.stdout)
    return {"seconds": found["seconds"][1:], "cpu": found["cpu"][1:]}


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def per_cpu_second(count: int, timing: Timing) -> float:
    return count / statistics.median(timing["cpu"])


def in_turns(rounds: int, contenders: dict[str, Callable[[], Timing]]) -> dict[str, Timing]:
    """Each contender's timed passes, the contenders taking turns `rounds` times."""
    found: dict[str, Timing] = {name: {"seconds": [], "cpu": []} for name in contenders}
    for _ in range(rounds):
        for name, run in contenders.items():
            for what, values in run().items():
                found[name][what] += values
    return found


def renditions(rounds: int, inputs: Path) -> None:
    jpegs, phone, heics = make_inputs(inputs, 6, 3, phone=6)
    found = in_turns(
        rounds,
        {
            "ours": lambda: run_child("web", 2, jpegs),
            "sharp": lambda: run_sharp(2, jpegs),
            "ours phone": lambda: run_child("web", 2, phone),
            "sharp phone": lambda: run_sharp(2, phone),
            "heic": lambda: run_child("web", 2, heics),
            "five": lambda: run_child("five", 2, jpegs),
        },
    )
    ours, sharp, ours_heic, five = found["ours"], found["sharp"], found["heic"], found["five"]
    a, b = per_cpu_second(len(jpegs), ours), per_cpu_second(len(jpegs), sharp)
    passes = len(ours["cpu"])
    print(
        f"\n1. web-2048 from 12-MP JPEGs, photos per CPU-second (one core, {passes} passes in turns, median)"
    )
    print(f"   ours  {a:6.2f}\n   sharp {b:6.2f}\n   ratio {a / b:6.2f}x  (goal >= 1.0: {verdict(a >= b)})")
    a, b = per_cpu_second(len(phone), found["ours phone"]), per_cpu_second(len(phone), found["sharp phone"])
    print("   the same pixels as a phone saves a portrait photo (EXIF orientation 6, Display P3 profile)")
    print(f"   ours  {a:6.2f}\n   sharp {b:6.2f}\n   ratio {a / b:6.2f}x  (goal >= 1.0: {verdict(a >= b)})")
    print(f"   HEIC (ours; sharp's libvips cannot decode HEVC): {per_cpu_second(len(heics), ours_heic):.2f}")
    print("\n2. all five built-in presets at once vs web-2048 alone (the 6 JPEGs, one core, median)")
    for what in ("seconds", "cpu"):
        one, all_five = statistics.median(ours[what]), statistics.median(five[what])
        ratio = all_five / one
        label = "wall" if what == "seconds" else "CPU "
        goal = f"goal <= 2.0: {verdict(ratio <= 2)}"
        print(f"   {label} one {one:.2f} s, five {all_five:.2f} s: {ratio:.2f}x  ({goal})")


def rss_of(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def zip_bench(photos: int, work: Path) -> None:
    import httpx

    from tests.helpers.server import ADMIN_PASSWORD, Accounts, Server, base_env

    jpegs, _, _ = make_inputs(work / "zip-inputs", 5, 0)
    bodies = [p.read_bytes() for p in jpegs]
    # The API process alone: its embedded thumbnail worker would render the 200 uploads just
    # before the zip and leave its own memory in the same RSS (deploy a worker separately).
    data_dir = work / "server" / "sqlite"
    env = base_env(data_dir) | {"LOG_LEVEL": "WARNING"}
    server = Server(url="", env=env, data_dir=data_dir, backend="sqlite", serve_args=("--no-worker",))
    server.cli("users", "create", "admin", "--admin", input=ADMIN_PASSWORD + "\n")
    server.start()
    assert server.process is not None
    fresh = rss_of(server.process.pid)
    accounts = Accounts(server)
    try:
        device = accounts.device()
        records = []
        for i in range(photos):
            body = bodies[i % len(bodies)]
            record = {
                "photos_uuid": str(uuid.uuid4()).upper(),
                "filename": f"IMG_{i:04d}.JPG",
                "media_type": "photo",
                "width": 4032,
                "height": 3024,
                "checksum_sha256": hashlib.sha256(body).hexdigest(),
            }
            records.append(record)
        for start in range(0, photos, 100):
            device.http.post("/api/sync/photos", json={"photos": records[start : start + 100]})
        for i, record in enumerate(records):
            device.http.put(
                f"/api/sync/photos/{record['photos_uuid']}/original", content=bodies[i % len(bodies)]
            )
        ids = [p["id"] for p in device.owner.http.get("/api/photos", params={"limit": 500}).json()["photos"]]
        set_id = device.owner.http.post(
            "/api/publish-sets", json={"title": "Bench", "photo_ids": ids}
        ).json()["id"]
        total = sum(len(bodies[i % len(bodies)]) for i in range(photos))
        pid = server.process.pid
        idle = rss_of(pid)
        peak = [idle]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], rss_of(pid))
                time.sleep(0.02)

        sampler = threading.Thread(target=sample)
        sampler.start()
        start = time.perf_counter()
        size = 0
        with httpx.Client(
            base_url=server.url, timeout=600, headers={"authorization": f"Bearer {device.owner.token}"}
        ) as http:
            with http.stream(
                "GET", f"/api/publish-sets/{set_id}/download", params={"preset": "original-clean"}
            ) as r:
                for chunk in r.iter_bytes(1 << 20):
                    size += len(chunk)
        zip_seconds = time.perf_counter() - start
        done.set()
        sampler.join()
        from image_assistant.store.local import LocalStore

        store = LocalStore(server.data_dir / "objects", signing_key=b"x")
        keys = [
            str(p.relative_to(server.data_dir / "objects"))
            for p in (server.data_dir / "objects" / "originals").rglob("*.*")
        ]
        start = time.perf_counter()
        read = sum(len(c) for key in keys for c in store.open(key))
        read_seconds = time.perf_counter() - start
        start = time.perf_counter()
        over_http = 0
        for photo_id in ids:
            url = device.owner.http.get(f"/api/photos/{photo_id}/download").json()["url"]
            over_http += len(httpx.get(url, timeout=60).content)
        http_seconds = time.perf_counter() - start
        mb = 1024 * 1024
        print(
            f"\n3. zip of {photos} original-clean photos, {total / mb:.0f} MiB of originals, "
            f"zip {size / mb:.0f} MiB"
        )
        print(
            f"   API process (worker not embedded) RSS just started {fresh / mb:.0f} MiB, after the uploads "
            f"{idle / mb:.0f} MiB, peak while streaming "
            f"{peak[0] / mb:.0f} MiB = {peak[0] / 1e6:.0f} MB, growth {(peak[0] - idle) / mb:.0f} MiB "
            f"(goal < 150 MB peak: {verdict(peak[0] < 150e6)})"
        )
        print(f"   zip        {size / mb / zip_seconds:7.0f} MiB/s")
        print(
            f"   read store {read / mb / read_seconds:7.0f} MiB/s in process: "
            f"ratio {(size / zip_seconds) / (read / read_seconds):.2f}"
        )
        print(
            f"   read HTTP  {over_http / mb / http_seconds:7.0f} MiB/s, one GET per object: "
            f"ratio {(size / zip_seconds) / (over_http / http_seconds):.2f} (goal >= 0.7)"
        )
    finally:
        accounts.close()
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--skip-zip", action="store_true")
    parser.add_argument("--skip-renditions", action="store_true")
    parser.add_argument("--inputs", type=Path, help="where the 12-MP inputs are made, or kept from before")
    parser.add_argument("files", nargs="*")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.rounds, [Path(f) for f in args.files])
        return
    with tempfile.TemporaryDirectory(prefix="ia-bench-publish-") as tmp:
        if not args.skip_renditions:
            renditions(args.rounds, args.inputs or Path(tmp) / "inputs")
        if not args.skip_zip:
            zip_bench(args.photos, Path(tmp))


if __name__ == "__main__":
    main()
