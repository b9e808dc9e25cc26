"""`agent offload-check`: is every original on this disk safely on the server, byte for byte,
under the name the library's originals folder uses? Only then may a mount stand in for it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from image_assistant.agent.sources.base import Asset
from image_assistant.agent.sync import sha256_file


@dataclass(frozen=True)
class LocalOriginal:
    """A file in the library's originals folder: a photo's original, or a Live Photo's video."""

    photos_uuid: str
    kind: str  # original | live_video
    path: Path
    relative: str | None  # its path inside the library's originals folder (None: a folder source)
    size: int


@dataclass
class OffloadReport:
    checked: int = 0
    checked_bytes: int = 0
    identical: int = 0
    identical_bytes: int = 0
    missing: list[LocalOriginal] = field(default_factory=list)  # the server lacks it (or its object)
    different: list[LocalOriginal] = field(default_factory=list)  # other bytes on the server
    misplaced: list[LocalOriginal] = field(default_factory=list)  # stored under another name
    not_on_disk: int = 0  # only in iCloud: nothing here to offload

    @property
    def all_safe(self) -> bool:
        return not (self.missing or self.different or self.misplaced)

    @property
    def missing_bytes(self) -> int:
        return sum(item.size for item in self.missing)


def local_originals(assets: list[Asset], originals_dir: Path | None) -> tuple[list[LocalOriginal], int]:
    """The originals (and Live Photo videos) on this disk, and how many assets have no original here."""
    found: list[LocalOriginal] = []
    for asset in assets:
        for kind, path in (("original", asset.original), ("live_video", asset.live_video)):
            if path is None:
                continue
            relative = None
            if originals_dir is not None and path.is_relative_to(originals_dir):
                relative = path.relative_to(originals_dir).as_posix()
            found.append(LocalOriginal(asset.photos_uuid, kind, path, relative, path.stat().st_size))
    return found, sum(1 for asset in assets if asset.original is None)


def compare(
    originals: list[LocalOriginal], server_items: list[dict[str, Any]], not_on_disk: int
) -> OffloadReport:
    """Each local original against what the server holds (its SHA-256 is read from the disk now)."""
    held = {
        (str(item["photos_uuid"]).upper(), str(item.get("kind", "original"))): item for item in server_items
    }
    report = OffloadReport(not_on_disk=not_on_disk)
    for original in originals:
        report.checked += 1
        report.checked_bytes += original.size
        item = held.get((original.photos_uuid.upper(), original.kind))
        if item is None or not item.get("in_store"):
            report.missing.append(original)
        elif item.get("sha256") != sha256_file(original.path) or item.get("size") != original.size:
            report.different.append(original)
        elif original.relative is not None and item.get("path") != original.relative:
            report.misplaced.append(original)
        else:
            report.identical += 1
            report.identical_bytes += original.size
    return report
