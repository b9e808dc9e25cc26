"""What the agent is doing now, shared by the sync pass, the status page and `agent status`."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from image_assistant.agent.config import write_private

MAX_ERRORS = 20


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class Progress:
    """Counters of the current pass and facts about the last ones; thread-safe."""

    def __init__(self, status_file: Path | None = None) -> None:
        self._lock = threading.Lock()
        self.status_file = status_file
        self.phase = "idle"
        self.source = ""
        self.photos = 0
        self.albums = 0
        self.waiting_for_original = 0
        self.waiting_reasons: dict[str, int] = {}  # why originals wait → how many
        self.cloud_total = 0  # originals to download from iCloud in this pass
        self.cloud_done = 0
        self.uploads_total = 0
        self.uploads_done = 0
        self.bytes_total = 0
        self.bytes_done = 0
        self.pass_started: float | None = None
        self.upload_started: float | None = None
        self.last_success_at: str | None = None
        self.last_pass: dict[str, Any] = {}
        self.server_reachable: bool | None = None
        self.server_side: dict[str, Any] = {}  # what the server said it holds, and when
        self.errors: deque[dict[str, str]] = deque(maxlen=MAX_ERRORS)
        self._last_write = 0.0
        self._write_lock = threading.Lock()

    def load_previous(self) -> None:
        """Carry the last success and errors over from the status file of an earlier run."""
        previous = read_status(self.status_file) if self.status_file else None
        if previous:
            self.last_success_at = previous.get("last_success_at")
            self.last_pass = previous.get("last_pass") or {}
            self.server_side = previous.get("server_side") or {}
            self.errors.extend(previous.get("errors") or [])

    def set(self, **values: Any) -> None:
        with self._lock:
            for name, value in values.items():
                setattr(self, name, value)
        self.save(force=True)

    def add_bytes(self, count: int) -> None:
        with self._lock:
            self.bytes_done += count
        self.save()

    def add_upload(self, size: int) -> None:
        """One more upload joins the pass (an original just downloaded from iCloud)."""
        with self._lock:
            self.uploads_total += 1
            self.bytes_total += size
        self.save()

    def upload_finished(self) -> None:
        with self._lock:
            self.uploads_done += 1
        self.save()

    def reachable(self, value: bool) -> None:
        """Whether the server answered the last call; status.json is rewritten only on a change."""
        with self._lock:
            changed = self.server_reachable is not value
            self.server_reachable = value
        if changed:
            self.save(force=True)

    def server_said(self, status: dict[str, Any]) -> None:
        """Record the server's own counts for this device (GET /api/sync/status)."""
        self.set(server_side=server_side_of(status))

    def error(self, message: str) -> None:
        with self._lock:
            self.errors.append({"at": now_iso(), "message": message})
        self.save(force=True)

    def as_json(self) -> dict[str, Any]:
        with self._lock:
            elapsed = time.monotonic() - self.upload_started if self.upload_started else 0.0
            rate = self.bytes_done / elapsed if elapsed > 0.5 else 0.0
            left = max(self.bytes_total - self.bytes_done, 0)
            return {
                "phase": self.phase,
                "source": self.source,
                "photos": self.photos,
                "albums": self.albums,
                "waiting_for_original": self.waiting_for_original,
                "waiting_reasons": dict(self.waiting_reasons),
                "cloud": {"done": self.cloud_done, "total": self.cloud_total},
                "uploads": {"done": self.uploads_done, "total": self.uploads_total},
                "bytes": {"done": self.bytes_done, "total": self.bytes_total},
                "rate_bytes_per_s": round(rate),
                "eta_s": round(left / rate) if rate > 0 and self.phase == "uploading" else None,
                "last_success_at": self.last_success_at,
                "last_pass": dict(self.last_pass),
                "server_reachable": self.server_reachable,
                "server_side": dict(self.server_side),
                "errors": list(self.errors),
                "updated_at": now_iso(),
            }

    def save(self, *, force: bool = False) -> None:
        """Write status.json (at most twice a second unless forced) for `agent status`."""
        if self.status_file is None:
            return
        moment = time.monotonic()
        if not force and moment - self._last_write < 0.5:
            return
        self._last_write = moment
        body = json.dumps(self.as_json(), indent=2)
        with self._write_lock:
            try:
                write_private(self.status_file, body)
            except OSError:
                pass


def server_side_of(status: dict[str, Any]) -> dict[str, Any]:
    return {
        "photos": status.get("photos"),
        "albums": status.get("albums"),
        "pending_uploads": status.get("pending_uploads"),
        "last_sync_at": status.get("last_sync_at"),
        "checked_at": now_iso(),
    }


def read_status(path: Path) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(path.read_text())
        return data
    except (OSError, ValueError):
        return None
