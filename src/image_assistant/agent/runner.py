"""Passes on a schedule or on demand ("Sync now"), surviving a server that is down for a while.

Inside a pass every request retries for up to the backoff window; a pass that still cannot
reach the server ends with ServerUnreachable, which `Scheduler.loop` records and outlives:
the next pass picks up where the last one stopped, so an outage of any length is survived.
Only DeviceRevoked (401) and `Scheduler.stop()` (SIGTERM, Ctrl-C) end the loop; a stop lets
the pass in progress end at a safe point first.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from image_assistant.agent.client import AgentError, DeviceRevoked, ServerClient, ServerUnreachable
from image_assistant.agent.errors import Stopped
from image_assistant.agent.originals import OriginalFetcher, Staging
from image_assistant.agent.progress import Progress
from image_assistant.agent.sources.base import Source
from image_assistant.agent.state import AgentState
from image_assistant.agent.sync import PassReport, SyncPass

log = logging.getLogger("image_assistant.agent")


@dataclass
class PassSettings:
    workers: int = 4
    resumable_threshold: int = 64 * 1024 * 1024
    fetcher: OriginalFetcher | None = None  # brings originals that are only in iCloud
    staging: Staging | None = None  # where they wait between download and upload


def run_pass(
    *,
    source: Source,
    state: AgentState,
    client: ServerClient,
    progress: Progress,
    settings: PassSettings,
    stop: threading.Event | None = None,
) -> PassReport:
    """One pass; errors are recorded in the progress (for the status page) and re-raised."""
    try:
        report = SyncPass(
            source=source,
            state=state,
            client=client,
            progress=progress,
            workers=settings.workers,
            resumable_threshold=settings.resumable_threshold,
            stop=stop,
            fetcher=settings.fetcher,
            staging=settings.staging,
        ).run()
    except Stopped:
        raise
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
    ask_server_side(client, progress)
    return report


def ask_server_side(client: ServerClient, progress: Progress) -> None:
    """After a pass: the server's own counts for this device, for the status page (one try; a
    failure leaves the last answer in place)."""
    try:
        progress.server_said(client.status())
    except AgentError as exc:
        log.info("could not ask the server for its counts: %s", exc)


def server_probe(client: ServerClient, progress: Progress) -> Callable[[], bool]:
    """A check of GET /health that records and returns whether the server answers (no retries)."""

    def probe() -> bool:
        try:
            reachable = client.http.get("/health", timeout=5).status_code < 500
        except Exception:
            reachable = False
        progress.reachable(reachable)
        return reachable

    return probe


class Scheduler:
    """Runs passes every `interval` seconds, or at once when `sync_now()` is called.

    After a pass that could not reach the server, the next one starts as soon as `probe`
    finds the server back (it is asked every `probe_every` seconds), not only at the interval.
    """

    def __init__(
        self,
        interval: float,
        make_pass: Callable[[], PassReport],
        probe: Callable[[], bool] | None = None,
        probe_every: float = 30.0,
    ) -> None:
        self.interval = interval
        self.make_pass = make_pass
        self.probe = probe
        self.probe_every = probe_every
        self._wake = threading.Event()
        self.stopping = threading.Event()  # set by stop(); the pass in progress watches it
        self.running = threading.Event()

    def sync_now(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self.stopping.set()
        self._wake.set()

    def loop(self) -> None:
        """Until stopped, or until the device is revoked (which is re-raised)."""
        while not self.stopping.is_set():
            self._wake.clear()
            self.running.set()
            unreachable = False
            try:
                self.make_pass()
            except DeviceRevoked:
                raise
            except Stopped:
                log.info("the pass stopped at a safe point, as asked")
            except ServerUnreachable as exc:
                unreachable = True
                log.warning("%s; trying again when it answers, or in %.0f s", exc, self.interval)
            except Exception:
                log.exception("sync pass failed")
            finally:
                self.running.clear()
            self._wait_for_next_pass(early_when_back=unreachable)

    def _wait_for_next_pass(self, *, early_when_back: bool) -> None:
        """Sleep until the interval ends or "Sync now"; meanwhile check the server now and then."""
        deadline = time.monotonic() + self.interval
        while not self._wake.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if self._wake.wait(min(left, self.probe_every)):
                return
            if self.probe is not None and self.probe() and early_when_back:
                return
