"""Lighthouse on the Photos page with 10,000 photos, in phone emulation (issue 17).

A fresh `image-assistant serve` (embedded defaults) gets one user whose device sends 10,000
photos' metadata and real JPEGs for the newest 150 (bench/gallery.py's library: the first screen
shows real thumbnails). npm `lighthouse` (pinned below, installed on first use under
~/.cache/image-assistant-bench, not a dependency of the gallery) then audits `/` signed in (the
session cookie as an extra header) with Debian's Chromium (CHROME_PATH=/usr/bin/chromium,
headless, --no-sandbox), in its default mobile emulation (Moto G Power screen, simulated slow 4G
and a 4x slower CPU). It prints the performance, accessibility and best-practices scores (median
of the runs) against the targets, the performance metrics, and every audit that lost points.

    .venv/bin/python bench/lighthouse.py
    .venv/bin/python bench/lighthouse.py --photos 2000 --runs 1 --report /tmp/lh.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gallery import load_library  # noqa: E402
from harness import heading, load_average, median, owner_with_device, running_server, verdict  # noqa: E402

LIGHTHOUSE = "12.8.2"  # the last release that runs on Node 18-20 (13.x needs Node 22.19)
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "image-assistant-bench"
CHROME = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
TARGETS = {"performance": 90, "accessibility": 95, "best-practices": 95}
METRICS = [
    "first-contentful-paint",
    "largest-contentful-paint",
    "total-blocking-time",
    "cumulative-layout-shift",
    "speed-index",
]


def lighthouse_cli() -> Path:
    """The pinned lighthouse CLI, installed with npm into the cache the first time."""
    home = CACHE / f"lighthouse-{LIGHTHOUSE}"
    cli = home / "node_modules" / "lighthouse" / "cli" / "index.js"
    if not cli.is_file():
        if shutil.which("npm") is None:
            raise SystemExit("bench/lighthouse.py needs Node.js 18+ with npm")
        home.mkdir(parents=True, exist_ok=True)
        (home / "package.json").write_text('{"private": true}\n')
        print(f"  installing lighthouse {LIGHTHOUSE} into {home}")
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", f"lighthouse@{LIGHTHOUSE}"],
            cwd=home,
            check=True,
        )
    return cli


def audit(cli: Path, url: str, cookie: str, report: Path) -> dict[str, Any]:
    """One Lighthouse run of `url` (mobile emulation, its default); the JSON report."""
    command = [
        "node",
        str(cli),
        url,
        "--quiet",
        "--output=json",
        f"--output-path={report}",
        "--only-categories=performance,accessibility,best-practices",
        "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
        f"--extra-headers={json.dumps({'Cookie': f'ia_session={cookie}'})}",
    ]
    subprocess.run(command, check=True, env={**os.environ, "CHROME_PATH": CHROME}, timeout=600)
    result: dict[str, Any] = json.loads(report.read_text())
    return result


def scores(result: dict[str, Any]) -> dict[str, int]:
    return {name: round((c["score"] or 0) * 100) for name, c in result["categories"].items()}


def lost_points(result: dict[str, Any]) -> list[str]:
    """Audits that count in a category and did not pass, with what they say."""
    lines = []
    for name, category in result["categories"].items():
        for ref in category["auditRefs"]:
            found = result["audits"][ref["id"]]
            if ref["weight"] == 0 or found["score"] is None or found["score"] >= 1:
                continue
            shown = found.get("displayValue") or ""
            lines.append(f"{name}: {ref['id']} ({found['score']:.2f}) {found['title']} {shown}".rstrip())
            for item in (found.get("details") or {}).get("items", [])[:3]:
                node = item.get("node") or {}
                where = node.get("snippet") or item.get("url") or ""
                if where:
                    lines.append(f"      {str(where)[:140]}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--photos", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs (the median score is quoted)")
    parser.add_argument("--report", type=Path, help="keep the last run's JSON report here")
    args = parser.parse_args()
    cli = lighthouse_cli()
    with (
        tempfile.TemporaryDirectory(prefix="ia-bench-lighthouse-") as tmp,
        running_server(Path(tmp) / "data") as server,
    ):
        heading(f"loading {args.photos:,} photos")
        owner = owner_with_device(server)
        load_library(server, owner, args.photos)
        heading(f"lighthouse {LIGHTHOUSE}, mobile emulation, {args.runs} run(s); {load_average()}")
        results = []
        for run in range(args.runs):
            report = Path(tmp) / f"report-{run}.json"
            results.append(audit(cli, f"{server.url}/", owner.user_token, report))
            print(f"  run {run + 1}: {scores(results[-1])}")
        if args.report:
            shutil.copy(report, args.report)
    heading(f"results (median of {len(results)}; a shared, noisy machine: {load_average()})")
    for name, target in TARGETS.items():
        got = median([scores(r)[name] for r in results])
        print(f"  {name}: {got:.0f} (target >= {target}: {verdict(got >= target)})")
    for metric in METRICS:
        values = [r["audits"][metric]["numericValue"] for r in results]
        unit = "" if metric == "cumulative-layout-shift" else " ms"
        print(f"  {metric}: median {median(values):.{3 if not unit else 0}f}{unit}")
    lost = lost_points(results[-1])
    if lost:
        heading("audits that lost points (last run)")
        print("\n".join(f"  {line}" for line in lost))


if __name__ == "__main__":
    main()
