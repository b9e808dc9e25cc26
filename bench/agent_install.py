"""The agent's install: `pip install '.[agent]'` (the agent alone) against the same install with
the server's packages too (`.[server,agent]`, what `[agent]` installed before the split), each
into a fresh venv with the pip cache warm. Prints disk size and install time, and their ratio.

    .venv/bin/python bench/agent_install.py            # 1 run each (an install takes a minute)
    .venv/bin/python bench/agent_install.py --runs 3   # medians of 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def size_of(root: Path) -> int:
    total = 0
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                total += os.lstat(path).st_blocks * 512
    return total


def install(extras: str) -> tuple[float, int]:
    """Seconds to create a venv and install `.[extras]` into it, and the venv's size on disk."""
    with tempfile.TemporaryDirectory(prefix="ia-bench-venv-") as tmp:
        venv = Path(tmp) / "venv"
        started = time.monotonic()
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", f"{REPO}[{extras}]"],
            check=True, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        return time.monotonic() - started, size_of(venv)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    results: dict[str, tuple[float, float]] = {}
    for extras in ("server,agent", "agent"):
        runs = [install(extras) for _ in range(args.runs)]
        seconds = statistics.median(r[0] for r in runs)
        mb = statistics.median(r[1] for r in runs) / 1e6
        results[extras] = (seconds, mb)
        print(f"pip install '.[{extras}]': {mb:.0f} MB on disk, {seconds:.1f} s (median of {args.runs})")
    (full_s, full_mb), (lean_s, lean_mb) = results["server,agent"], results["agent"]
    print(
        f"agent alone / with the server: size {lean_mb / full_mb:.2f}x, install time {lean_s / full_s:.2f}x"
    )


if __name__ == "__main__":
    main()
