"""Playback renditions: seconds of 1080p HEVC video turned into H.264/AAC MP4 per CPU-second, ours
(PyAV, image_assistant.thumbnails.transcode) against Debian's `ffmpeg` command line on the same clip
and settings (x264 CRF 23 preset veryfast, yuv420p, AAC 128 kb/s, +faststart). Target: ≥ 0.9.

    .venv/bin/python bench/transcode.py [--seconds 8] [--rounds 3]

The clip is made here: a slow pan over a fixture photo (../shared/fixtures/photos-libraries),
1920x1080 at 30 fps, HEVC with a 440 Hz tone in a QuickTime .MOV, as an iPhone records. Each
contender runs in its own process with every core; CPU is user + system time of that process
(ours: measured around the transcode, without the interpreter's start); figures are medians.
Needs `ffmpeg` (apt-get install ffmpeg).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.harness import heading, python, verdict  # noqa: E402
from bench.thumbnails import fixture_jpegs  # noqa: E402

TARGET = 0.9
OURS = """
import json, sys, time
from pathlib import Path
from image_assistant.thumbnails.transcode import transcode
started = time.process_time()
wall = time.perf_counter()
rendered = transcode(Path(sys.argv[1]), Path(sys.argv[2]))
print(json.dumps({"cpu": time.process_time() - started, "wall": time.perf_counter() - wall}))
"""


def make_clip(path: Path, seconds: float) -> None:
    """A pan over a photo, 1080p HEVC + AAC in a .MOV."""
    import math
    import struct

    import av
    from PIL import Image

    with Image.open(max(fixture_jpegs(), key=lambda p: p.stat().st_size)) as photo:
        wide = photo.convert("RGB").resize((2600, 1600))
    frames = int(seconds * 30)
    with av.open(str(path), "w", format="mov") as output:
        video = output.add_stream("libx265", rate=30)
        video.width, video.height, video.pix_fmt = 1920, 1080, "yuv420p"
        video.options = {"x265-params": "log-level=none", "preset": "fast", "crf": "24"}
        sound = output.add_stream("aac", rate=48000)
        sound.layout = "stereo"
        for index in range(frames):
            x = int((wide.width - 1920) * index / max(1, frames - 1))
            y = int((wide.height - 1080) * (0.5 + 0.5 * math.sin(index / 40)))
            frame = av.VideoFrame.from_image(wide.crop((x, y, x + 1920, y + 1080)))
            frame.pts = index
            output.mux(video.encode(frame))
        output.mux(video.encode(None))
        for start in range(0, int(48000 * seconds), 1024):
            tone = struct.pack(
                "<1024f", *(0.2 * math.sin(2 * math.pi * 440 * (start + k) / 48000) for k in range(1024))
            )
            audio = av.AudioFrame(format="fltp", layout="stereo", samples=1024)
            audio.planes[0].update(tone)
            audio.planes[1].update(tone)
            audio.sample_rate, audio.pts = 48000, start
            output.mux(sound.encode(audio))
        output.mux(sound.encode(None))


def run_ours(source: Path, target: Path) -> tuple[float, float]:
    out = subprocess.run([python(), "-c", OURS, str(source), str(target)], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"ours failed: {out.stderr[-2000:]}")
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    return float(figures["cpu"]), float(figures["wall"])


def run_ffmpeg(source: Path, target: Path) -> tuple[float, float]:
    command = [
        "ffmpeg", "-v", "error", "-y", "-i", str(source),
        "-vf", "scale=1920:1080,format=yuv420p",
        "-c:v", "libx264", "-preset", "veryfast", "-crf", "23",
        "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart", str(target),
    ]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.perf_counter()
    subprocess.run(command, check=True)
    wall = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("ffmpeg") is None:
        sys.exit("needs Debian's ffmpeg: apt-get install ffmpeg")
    version = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout.split("\n")[0]
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "clip.mov"
        print(f"making a {args.seconds:g} s 1080p HEVC clip ...", flush=True)
        make_clip(source, args.seconds)
        results: dict[str, list[tuple[float, float]]] = {"ours (PyAV)": [], "ffmpeg CLI": []}
        sizes: dict[str, int] = {}
        run_ours(source, Path(tmp) / "warm.mp4")  # warm the page cache and the imports
        for _ in range(args.rounds):
            for name, runner in (("ours (PyAV)", run_ours), ("ffmpeg CLI", run_ffmpeg)):
                target = Path(tmp) / f"{name.split()[0]}.mp4"
                results[name].append(runner(source, target))
                sizes[name] = target.stat().st_size
    heading(f"1080p HEVC → H.264/AAC MP4, {args.seconds:g} s clip, median of {args.rounds} ({version})")
    rate = {}
    for name, runs in results.items():
        cpu = statistics.median(r[0] for r in runs)
        wall = statistics.median(r[1] for r in runs)
        rate[name] = args.seconds / cpu
        print(
            f"  {name:12} {rate[name]:6.2f} s of video per CPU-s   cpu {cpu:6.2f} s   wall {wall:6.2f} s"
            f"   {sizes[name] / 1024:7.0f} KiB"
        )
    ratio = rate["ours (PyAV)"] / rate["ffmpeg CLI"]
    print(f"  ours / ffmpeg: {ratio:.2f} (target ≥ {TARGET}: {verdict(ratio >= TARGET)})")


if __name__ == "__main__":
    main()
