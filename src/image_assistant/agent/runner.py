"""Passes on a schedule or on demand ("Sync now"), surviving a server that is down for a while."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from image_assistant.agent.client import AgentError, DeviceRevoked, ServerClient, ServerUnreachable
from image_assistant.agent.progress import Progress
from image_assistant.agent.sources.base import Source
from image_assistant.agent.state import AgentState
from image_assistant.agent.sync import PassReport, SyncPass

log = logging.getLogger("image_assistant.agent")


@dataclass
class PassSettings:
    workers: int = 4
    resumable_threshold: int = 64 * 1024 * 1024


def run_pass(
    *, source: Source, state: AgentState, client: ServerClient, progress: Progress, settings: PassSettings
) -> PassReport:
    """One pass; errors are recorded in the progress (for the status page) and re-raised."""
    try:
        return SyncPass(
            source=source,
            state=state,
            client=client,
            progress=progress,
            workers=settings.workers,
            resumable_threshold=settings.resumable_threshold,
        ).run()
    except ServerUnreachable as exc:
        progress.error(str(exc))
        progress.set(phase="waiting", server_reachable=False)
        raise
    except AgentError as exc:
        progress.error(str(exc))
        progress.set(phase="stopped" if isinstance(exc, DeviceRevoked) else "failed")
        raise
    except Exception as exc:  # a broken source must not kill `agent run`; say what broke
        progress.error(f"pass failed: {type(exc).__name__}: {exc}")
        progress.set(phase="failed")
        raise


def server_probe(client: ServerClient, progress: Progress) -> Callable[[], None]:
    """A check of GET /health that records whether the server answers (no retries)."""

    def probe() -> None:
        try:
            reachable = client.http.get("/health", timeout=5).status_code < 500
        except Exception:
            reachable = False
        progress.set(server_reachable=reachable)

    return probe


class Scheduler:
    """Runs passes every `interval` seconds, or at once when `sync_now()` is called."""

    def __init__(
        self,
        interval: float,
        make_pass: Callable[[], PassReport],
        probe: Callable[[], None] | None = None,
        probe_every: float = 30.0,
    ) -> None:
        self.interval = interval
        self.make_pass = make_pass
        self.probe = probe
        self.probe_every = probe_every
        self._wake = threading.Event()
        self._stop = threading.Event()
        self.running = threading.Event()

    def sync_now(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def loop(self) -> None:
        """Until stopped, or until the device is revoked (which is re-raised)."""
        while not self._stop.is_set():
            self._wake.clear()
            self.running.set()
            try:
                self.make_pass()
            except DeviceRevoked:
                raise
            except ServerUnreachable:
                log.warning("server unreachable; next try at the next interval")
            except Exception:
                log.exception("sync pass failed")
            finally:
                self.running.clear()
            self._wait_for_next_pass()

    def _wait_for_next_pass(self) -> None:
        """Sleep until the interval ends or "Sync now"; meanwhile check the server now and then."""
        deadline = time.monotonic() + self.interval
        while not self._wake.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if self._wake.wait(min(left, self.probe_every)):
                return
            if self.probe is not None:
                self.probe()
