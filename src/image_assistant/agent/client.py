"""The agent's side of the HTTP API, with retries, backoff and errors that say what to do."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from image_assistant.agent.connection import certificate_problem, tls_context
from image_assistant.agent.errors import (
    AgentError,
    DeviceRevoked,
    NotPaired,
    RequestRejected,
    ServerUnreachable,
    Stopped,
)
from image_assistant.agent.sources.base import FILE_KINDS

__all__ = ["AgentError", "DeviceRevoked", "NotPaired", "RequestRejected", "ServerClient", "ServerUnreachable"]
log = logging.getLogger("image_assistant.agent")
CHUNK = 1024 * 1024
RETRYABLE_STATUS = {500, 502, 503, 504}
UNAVAILABLE_STATUS = {502, 503, 504}  # a proxy or the server itself saying it is not serving
MAX_INTERNAL_ERRORS = 2
DEFAULT_RETRY_WINDOW = 600.0
DEFAULT_RETRY_MAX_DELAY = 60.0


@dataclass
class Backoff:
    """Exponential backoff with jitter, up to `max_delay`, giving up after `window` seconds."""

    window: float = DEFAULT_RETRY_WINDOW
    first_delay: float = 1.0
    max_delay: float = DEFAULT_RETRY_MAX_DELAY

    def delays(self) -> Iterator[float]:
        deadline = time.monotonic() + self.window
        delay = min(self.first_delay, self.max_delay)
        while time.monotonic() + delay <= deadline:
            yield delay * (0.75 + random.random() / 2)
            delay = min(delay * 2, self.max_delay)


def _error_of(response: httpx.Response) -> tuple[str, str]:
    try:
        error = response.json()["error"]
        details = error.get("details")
        first = details[0] if isinstance(details, list) and details else None
        where = (
            f" ({'.'.join(first.get('loc', []))}: {first.get('message', '')})"
            if isinstance(first, dict)
            else ""
        )
        return str(error["code"]), str(error["message"]) + where
    except (ValueError, KeyError, TypeError):
        return "http_" + str(response.status_code), response.reason_phrase or "request failed"


OnBytes = Callable[[int], None] | None
OnReachable = Callable[[bool], None] | None
PART_SIZE = 64 * 1024 * 1024
UPLOAD_TIMEOUT = httpx.Timeout(120.0, connect=10.0)


class _Counted:
    """Counts the bytes of one request while passing them on to a progress callback."""

    def __init__(self, on_bytes: OnBytes) -> None:
        self.on_bytes = on_bytes
        self.total = 0

    def __call__(self, count: int) -> None:
        self.total += count
        if self.on_bytes is not None:
            self.on_bytes(count)


def file_chunks(
    path: Path, *, start: int = 0, length: int | None = None, on_bytes: OnBytes = None
) -> Iterator[bytes]:
    """Stream a file (or a slice of it) from disk in 1 MiB chunks."""
    remaining = length
    with path.open("rb") as handle:
        handle.seek(start)
        while remaining is None or remaining > 0:
            chunk = handle.read(CHUNK if remaining is None else min(CHUNK, remaining))
            if not chunk:
                return
            if remaining is not None:
                remaining -= len(chunk)
            if on_bytes is not None:
                on_bytes(len(chunk))
            yield chunk


class ServerClient:
    """Calls to one server; every call retries transient failures within the backoff window.

    `on_reachable(bool)` hears after every attempt whether the server answered, so the status
    page can say "unreachable" while a pass is still retrying, not only once it gave up.
    """

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        backoff: Backoff | None = None,
        sleep: Callable[[float], None] = time.sleep,
        on_reachable: OnReachable = None,
        ca_bundle: str | None = None,
    ) -> None:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        self.base_url = base_url.rstrip("/")
        self.http = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            verify=tls_context(ca_bundle),
            timeout=httpx.Timeout(60.0, connect=10.0),
            limits=httpx.Limits(max_connections=8, max_keepalive_connections=8),
        )
        self.backoff = backoff or Backoff()
        self.sleep = sleep
        self.on_reachable = on_reachable

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> ServerClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _answered(self, reachable: bool) -> None:
        if self.on_reachable is not None:
            self.on_reachable(reachable)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One call; retries network errors and 5xx; raises AgentError for the rest."""
        body_factory: Callable[[], Any] | None = kwargs.pop("body_factory", None)
        delays = self.backoff.delays()
        internal_errors = 0
        while True:
            try:
                if body_factory is not None:
                    kwargs["content"] = body_factory()
                response = self.http.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                untrusted = certificate_problem(exc)
                if untrusted is not None:  # waiting would not make it trusted
                    raise untrusted from None
                self._answered(False)
                problem = f"cannot reach {self.base_url}: {type(exc).__name__}"
            else:
                self._answered(response.status_code not in UNAVAILABLE_STATUS)
                if response.status_code < 400:
                    return response
                if response.status_code == 500:
                    internal_errors += 1  # a server bug rather than an outage: a few tries only
                if response.status_code not in RETRYABLE_STATUS or internal_errors > MAX_INTERNAL_ERRORS:
                    raise self._rejection(response)
                problem = f"the server answered {response.status_code}"
            delay = next(delays, None)
            if delay is None:
                raise self._gave_up(problem)
            log.info("%s; retrying in %.0f s", problem, delay)
            self.sleep(delay)

    def _gave_up(self, problem: str) -> ServerUnreachable:
        return ServerUnreachable(f"server unreachable: {problem} (retried for {self.backoff.window:.0f} s)")

    def _rejection(self, response: httpx.Response) -> AgentError:
        code, message = _error_of(response)
        if response.status_code == 401:
            return DeviceRevoked(
                f"the server no longer accepts this device ({code}); "
                "pair again with `image-assistant agent pair`"
            )
        return RequestRejected(response.status_code, code, message)

    # pairing

    def register(self, *, username: str, name: str, hardware_id: str, platform: str, os_version: str) -> str:
        body = {
            "username": username,
            "name": name,
            "hardware_id": hardware_id,
            "platform": platform,
            "os_version": os_version,
        }
        return str(self.request("POST", "/api/devices/register", json=body).json()["device_id"])

    def verify(self, *, device_id: str, code: str) -> str:
        response = self.request("POST", "/api/devices/verify", json={"device_id": device_id, "code": code})
        return str(response.json()["token"])

    # sync

    def post_photos(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = self.request("POST", "/api/sync/photos", json={"photos": records}).json()
        return result

    def post_albums(self, albums: list[dict[str, Any]]) -> dict[str, Any]:
        body = {"albums": albums, "complete": True}
        result: dict[str, Any] = self.request("POST", "/api/sync/albums", json=body).json()
        return result

    def report_deleted(self, photos_uuids: list[str]) -> dict[str, Any]:
        body = {"photos_uuids": photos_uuids}
        result: dict[str, Any] = self.request("POST", "/api/sync/photos/deleted", json=body).json()
        return result

    def pending(self, page_size: int = 1000) -> Iterator[tuple[str, str]]:
        """Every (photos_uuid, kind) the server lacks (kind: one of FILE_KINDS)."""
        after: str | None = None
        while True:
            params: dict[str, Any] = {"limit": page_size, "kinds": ",".join(FILE_KINDS)}
            if after:
                params["after"] = after
            body = self.request("GET", "/api/sync/pending", params=params).json()
            items = body.get("items")
            if items is None:
                items = [{"photos_uuid": u, "kind": "original"} for u in body["photos_uuids"]]
            for item in items:
                yield str(item["photos_uuid"]), str(item["kind"])
            after = body.get("next_after")
            if not after:
                return

    def put_binary(
        self, *, photos_uuid: str, kind: str, path: Path, sha256: str, size: int, on_bytes: OnBytes = None
    ) -> dict[str, Any]:
        """Stream one file in a single request; the server checks its SHA-256."""
        result: dict[str, Any] = self.request(
            "PUT",
            f"/api/sync/photos/{photos_uuid}/{kind}",
            headers={"x-content-sha256": sha256, "content-length": str(size)},
            body_factory=lambda: file_chunks(path, on_bytes=on_bytes),
            timeout=UPLOAD_TIMEOUT,
        ).json()
        return result

    def upload_resumable(
        self,
        *,
        photos_uuid: str,
        kind: str,
        path: Path,
        sha256: str,
        size: int,
        on_bytes: OnBytes = None,
        part_size: int = PART_SIZE,
        stopping: Callable[[], bool] = lambda: False,
    ) -> int:
        """Upload in parts from the offset the server already holds; returns the bytes sent.

        Raises Stopped between two parts once `stopping()` says so (the server keeps the parts).
        """
        body = {"photos_uuid": photos_uuid, "kind": kind, "size": size, "sha256": sha256}
        started = self.request("POST", "/api/sync/uploads", json=body).json()
        if started.get("status") == "unchanged":
            return 0
        upload_id, offset = str(started["upload_id"]), int(started["offset"])
        sent = 0
        delays = self.backoff.delays()
        while offset < size:
            if stopping():
                raise Stopped(f"upload {upload_id} stopped at {offset} of {size} bytes")
            length = min(part_size, size - offset)
            counted = _Counted(on_bytes)
            try:
                response = self.http.patch(
                    f"/api/sync/uploads/{upload_id}",
                    headers={"upload-offset": str(offset), "content-type": "application/offset+octet-stream",
                             "content-length": str(length)},
                    content=file_chunks(path, start=offset, length=length, on_bytes=counted),
                    timeout=UPLOAD_TIMEOUT,
                )  # fmt: skip
            except httpx.TransportError as exc:
                self._answered(False)
                sent += counted.total
                offset = self._wait_and_reread(upload_id, delays, f"upload interrupted: {type(exc).__name__}")
                continue
            sent += counted.total
            if response.status_code == 409 or response.status_code in RETRYABLE_STATUS:
                offset = self._wait_and_reread(
                    upload_id, delays, f"the server answered {response.status_code}"
                )
                continue
            if response.status_code >= 400:
                raise self._rejection(response)
            offset = int(response.json()["offset"])
        return sent

    def _wait_and_reread(self, upload_id: str, delays: Iterator[float], problem: str) -> int:
        delay = next(delays, None)
        if delay is None:
            raise self._gave_up(problem)
        log.info("%s; resuming in %.0f s", problem, delay)
        self.sleep(delay)
        return int(self.request("GET", f"/api/sync/uploads/{upload_id}").json()["offset"])

    def stored_originals(self) -> list[dict[str, Any]]:
        """Every original the server holds for this account, with its SHA-256, size, path in
        the library's layout and whether the store has the object now."""
        items: list[dict[str, Any]] = self.request("GET", "/api/sync/originals").json()["items"]
        return items

    def status(self) -> dict[str, Any]:
        """The server's side for this device (photos and albums it holds, uploads it waits for,
        the last sync it recorded), in one try: callers fall back to what they knew."""
        try:
            response = self.http.get("/api/sync/status", timeout=10)
        except httpx.TransportError as exc:
            raise certificate_problem(exc) or self._gave_up(type(exc).__name__) from None
        if response.status_code >= 400:
            raise self._rejection(response)
        result: dict[str, Any] = response.json()
        return result
