"""Agent sync: a folder of small JPEGs through `image-assistant agent sync` to a local server.

Makes N distinct small JPEGs (one real JPEG, each copy with its own trailing bytes), pairs an
agent config dir with a fresh device, then times:

1. the agent's first pass (`agent sync --folder … --json`), its peak RSS polled every 50 ms;
2. a second, no-change pass (must send zero binary bytes);
3. as the baseline, a plain parallel HTTP PUT of the same files to the same server
   (4 threads, each file read and hashed, metadata posted first and not timed), for a
   second device of another user so nothing is deduplicated.

Targets (issue 4): no-change pass under 5% of the first pass's time with zero bytes sent;
agent peak RSS under 200 MB; first-pass throughput at least 70% of the plain PUT's.

With `--baseline REV` the agent of an earlier commit (its src/ taken with `git archive`, run by
the same Python against the same server, another user) makes the same two passes first, and
the figures are printed side by side (issue 12: new kinds and facts within 10% of before).

    .venv/bin/python bench/agent_sync.py              # 10,000 files
    .venv/bin/python bench/agent_sync.py --files 2000 # quicker
    .venv/bin/python bench/agent_sync.py --files 2000 --baseline f637c2f
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import CLI, Owner, Server, heading, owner_with_device, running_server, verdict  # noqa: E402

TARGET_NO_CHANGE_RATIO = 0.05
TARGET_RSS_MB = 200
TARGET_THROUGHPUT_RATIO = 0.70
MB = 1024 * 1024


def make_files(root: Path, count: int) -> int:
    """`count` distinct JPEGs in 20 sub-folders; returns their total size."""
    from PIL import Image

    buffer = io.BytesIO()
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = "2024:06:01 12:00:00"
    Image.effect_noise((320, 240), 64).convert("RGB").save(buffer, "JPEG", quality=85, exif=exif)
    base = buffer.getvalue()
    total = 0
    for index in range(count):
        folder = root / f"shoot-{index % 20:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        data = base + f"bench-{index}".encode()  # after EOI: still a valid JPEG, a distinct file
        (folder / f"IMG_{index:05d}.jpg").write_bytes(data)
        total += len(data)
    return total


def write_pairing(config_dir: Path, server_url: str, owner: Owner) -> None:
    config_dir.mkdir(parents=True, exist_ok=True)
    pairing = {"server": server_url, "username": owner.username, "device_id": owner.device_id,
               "device_name": "Bench Mac"}  # fmt: skip
    (config_dir / "pairing.json").write_text(json.dumps(pairing))
    token = config_dir / "token"
    token.write_text(f"{owner.device_id}\n{owner.device_token}\n")
    token.chmod(0o600)


def baseline_source(rev: str, into: Path) -> Path:
    """The src/ folder of commit `rev`, unpacked into `into`."""
    repo = Path(__file__).resolve().parents[1]
    archive = subprocess.run(["git", "-C", str(repo), "archive", rev, "src"], capture_output=True, check=True)
    into.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into / "src"


def timed_agent_pass(
    config_dir: Path, folder: Path, src: Path | None = None
) -> tuple[float, int, dict[str, Any]]:
    """Seconds, peak RSS (bytes) and the report of one `agent sync` pass (of the code in `src`)."""
    env = dict(os.environ, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    command = [CLI]
    if src is not None:  # an earlier commit's agent, ahead of the installed package on the path
        env["PYTHONPATH"] = str(src)
        command = [sys.executable, "-m", "image_assistant.cli"]
    started = time.perf_counter()
    process = subprocess.Popen(
        [*command, "agent", "--config-dir", str(config_dir), "sync", "--folder", str(folder), "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    watched = psutil.Process(process.pid)
    peak = 0
    while process.poll() is None:
        try:
            peak = max(peak, watched.memory_info().rss)
        except psutil.Error:
            pass
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    out, err = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"agent sync failed: {err}")
    return seconds, peak, json.loads(out.strip().splitlines()[-1])


def plain_parallel_put(server_url: str, owner: Owner, files: list[Path]) -> float:
    """Seconds to PUT every file (4 threads, each read and hashed) after untimed metadata."""
    headers = {"authorization": f"Bearer {owner.device_token}"}
    ids = {path: str(uuid.uuid4()).upper() for path in files}
    with httpx.Client(base_url=server_url, headers=headers, timeout=120) as http:
        records = [{"photos_uuid": ids[p], "filename": p.name, "content_type": "image/jpeg"} for p in files]
        for start in range(0, len(records), 100):
            http.post("/api/sync/photos", json={"photos": records[start : start + 100]}).raise_for_status()

        def put(path: Path) -> None:
            data = path.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            response = http.put(f"/api/sync/photos/{ids[path]}/original", content=data,
                                headers={"x-content-sha256": digest})  # fmt: skip
            response.raise_for_status()

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(put, files))
        return time.perf_counter() - started


def compare_with_baseline(rev: str, base: Path, server: Server, folder: Path, rounds: int) -> None:
    """First and no-change passes of the agent at `rev` and of this one, alternating for `rounds`
    rounds (each pass pair as a new user, so nothing is deduplicated); medians side by side."""
    src = baseline_source(rev, base / "baseline")
    figures: dict[str, list[tuple[float, float]]] = {rev: [], "this commit": []}
    for round_ in range(rounds):
        for label, code in ((rev, src), ("this commit", None)):
            config_dir = base / f"agent-{'base' if code else 'new'}-{round_}"
            write_pairing(config_dir, server.url, owner_with_device(server))
            first_s, _, first = timed_agent_pass(config_dir, folder, code)
            second_s, _, second = timed_agent_pass(config_dir, folder, code)
            assert second["bytes_sent"] == 0 and first["uploads"] > 0
            figures[label].append((first_s, second_s))
    heading(f"side by side: {rev} vs this commit (medians of {rounds})")
    base_first, base_second = (statistics.median(f[i] for f in figures[rev]) for i in (0, 1))
    new_first, new_second = (statistics.median(f[i] for f in figures["this commit"]) for i in (0, 1))
    for name, before, now in (
        ("first pass", base_first, new_first),
        ("no-change pass", base_second, new_second),
    ):
        print(f"  {name + ':':<16}{before:7.2f} s vs {now:7.2f} s  (ratio {now / before:.2f})")
    print(f"  within 10%: {verdict(new_first <= 1.1 * base_first and new_second <= 1.1 * base_second)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--baseline", metavar="REV", help="also time the agent of this commit, side by side")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds with --baseline (medians)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-agent-") as temp:
        base = Path(temp)
        folder = base / "photos"
        total = make_files(folder, args.files)
        files = sorted(folder.rglob("*.jpg"))
        with running_server(base / "data", {"LOG_LEVEL": "WARNING"}) as server:
            if args.baseline:
                compare_with_baseline(args.baseline, base, server, folder, args.rounds)
            config_dir = base / "agent"
            write_pairing(config_dir, server.url, owner_with_device(server))

            heading(f"first pass: {args.files} files, {total / MB:.1f} MB")
            first_s, first_rss, first = timed_agent_pass(config_dir, folder)
            print(f"  {first_s:.1f} s, {args.files / first_s:.0f} files/s, {total / MB / first_s:.1f} MB/s, "
                  f"peak RSS {first_rss / MB:.0f} MB, {first['uploads']} uploaded")  # fmt: skip

            heading("second pass, nothing changed")
            second_s, second_rss, second = timed_agent_pass(config_dir, folder)
            print(f"  {second_s:.2f} s, {second['bytes_sent']} bytes sent, "
                  f"{second['metadata_sent']} records sent, peak RSS {second_rss / MB:.0f} MB")  # fmt: skip

            heading("baseline: plain parallel HTTP PUT of the same files (4 threads)")
            put_s = plain_parallel_put(server.url, owner_with_device(server), files)
            print(f"  {put_s:.1f} s, {args.files / put_s:.0f} files/s, {total / MB / put_s:.1f} MB/s")

        heading("verdict")
        ratio = second_s / first_s
        print(f"  no-change pass / first pass = {ratio:.3f} (target < {TARGET_NO_CHANGE_RATIO}), "
              f"bytes sent {second['bytes_sent']}: {verdict(ratio < TARGET_NO_CHANGE_RATIO and second['bytes_sent'] == 0)}")  # noqa: E501  # fmt: skip
        peak = max(first_rss, second_rss) / MB
        print(f"  agent peak RSS {peak:.0f} MB (target < {TARGET_RSS_MB}): {verdict(peak < TARGET_RSS_MB)}")
        throughput = put_s / first_s
        met = verdict(throughput >= TARGET_THROUGHPUT_RATIO)
        target = TARGET_THROUGHPUT_RATIO
        print(f"  first-pass throughput / plain PUT = {throughput:.2f} (target >= {target}): {met}")


if __name__ == "__main__":
    main()
