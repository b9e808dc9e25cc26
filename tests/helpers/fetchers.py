"""Stand-ins for Photos downloading originals from iCloud, loaded by the agent under test.

The agent takes them through IMAGE_ASSISTANT_AGENT_ORIGINAL_FETCHER=tests.helpers.fetchers:NAME
(the repository root on PYTHONPATH). "iCloud" is a folder holding `<photos_uuid>.<ext>` files
(STAND_IN_CLOUD); every fetch appends "<uuid> <bytes staged before it>" to STAND_IN_LOG.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from image_assistant.agent.originals import FetchFailed, OriginalFetcher
from image_assistant.agent.sources.base import Asset


def _staged_bytes(staging: Path) -> int:
    return sum(f.stat().st_size for f in staging.rglob("*") if f.is_file())


class CopyingFetcher(OriginalFetcher):
    """Copies the original from the "iCloud" folder, after an optional delay."""

    def __init__(self, cloud: Path, log: Path | None, delay: float = 0.0) -> None:
        self.cloud, self.log, self.delay = cloud, log, delay

    def fetch(self, asset: Asset, into: Path) -> Path:
        if self.log is not None:
            with self.log.open("a") as handle:
                handle.write(f"{asset.photos_uuid} {_staged_bytes(into.parent)}\n")
        found = sorted(self.cloud.glob(f"{asset.photos_uuid}.*"))
        if not found:
            raise FetchFailed("iCloud does not have it")
        target = into / asset.filename
        if self.delay:
            target.write_bytes(found[0].read_bytes()[:1000])  # a download under way
            time.sleep(self.delay)
        shutil.copyfile(found[0], target)
        return target


class FailingFetcher(OriginalFetcher):
    """Starts a download, then fails the way Photos does without network."""

    def fetch(self, asset: Asset, into: Path) -> Path:
        (into / asset.filename).write_bytes(b"partial download")
        raise FetchFailed("no network: Photos could not reach iCloud")


def _settings() -> tuple[Path, Path | None]:
    log = os.environ.get("STAND_IN_LOG")
    return Path(os.environ["STAND_IN_CLOUD"]), Path(log) if log else None


def copying(library: Path | None) -> OriginalFetcher:
    return CopyingFetcher(*_settings())


def slow(library: Path | None) -> OriginalFetcher:
    return CopyingFetcher(*_settings(), delay=float(os.environ.get("STAND_IN_DELAY", "60")))


def failing(library: Path | None) -> OriginalFetcher:
    return FailingFetcher()
