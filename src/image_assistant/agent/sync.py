"""One sync pass: read the source, send what changed, upload what the server lacks."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from image_assistant.agent.client import ServerClient
from image_assistant.agent.errors import AgentError, RequestRejected, SourceUnreadable, Stopped
from image_assistant.agent.originals import FetchFailed, NoFetcher, OriginalFetcher, Staging
from image_assistant.agent.progress import Progress, now_iso
from image_assistant.agent.sources.base import FILE_KINDS, Asset, Snapshot, Source, plain_name
from image_assistant.agent.state import AgentState

log = logging.getLogger("image_assistant.agent")
BATCH = 100
DELETE_BATCH = 500
UPLOAD_WORKERS = 4
RESUMABLE_THRESHOLD = 64 * 1024 * 1024
HASH_COMMIT_EVERY = 500
DECLARED_KINDS = tuple(kind for kind in FILE_KINDS if kind != "original")


@dataclass
class PassReport:
    """What one pass did; ids and counts only."""

    photos: int = 0
    albums: int = 0
    metadata_sent: int = 0
    albums_sent: bool = False
    deleted_reported: int = 0
    uploads: int = 0
    bytes_sent: int = 0
    waiting_for_original: list[str] = field(default_factory=list)
    waiting_reasons: dict[str, str] = field(default_factory=dict)  # photos_uuid → why
    fetched_from_cloud: int = 0
    failed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "photos": self.photos,
            "albums": self.albums,
            "metadata_sent": self.metadata_sent,
            "albums_sent": self.albums_sent,
            "deleted_reported": self.deleted_reported,
            "uploads": self.uploads,
            "bytes_sent": self.bytes_sent,
            "waiting_for_original": len(self.waiting_for_original),
            "waiting_reasons": reason_counts(self.waiting_reasons),
            "fetched_from_cloud": self.fetched_from_cloud,
            "failed": len(self.failed),
            "problems": len(self.problems),
            "seconds": round(self.seconds, 2),
        }


def reason_counts(reasons: dict[str, str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for reason in reasons.values():
        counts[reason] = counts.get(reason, 0) + 1
    return counts


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class FileFingerprint:
    path: Path
    size: int
    sha256: str


class Fingerprints:
    """SHA-256 of files, cached in the state by (path, size, mtime)."""

    def __init__(self, state: AgentState) -> None:
        self.state = state

    def of(self, path: Path) -> FileFingerprint:
        stat = path.stat()
        cached = self.state.get_facts(str(path), stat.st_size, stat.st_mtime_ns)
        if cached and cached.get("sha256"):
            return FileFingerprint(path, stat.st_size, str(cached["sha256"]))
        digest = sha256_file(path)
        self.state.put_facts(str(path), stat.st_size, stat.st_mtime_ns, {"sha256": digest})
        return FileFingerprint(path, stat.st_size, digest)


def build_record(asset: Asset, prints: dict[str, FileFingerprint]) -> dict[str, Any]:
    """The PhotoRecord JSON the server takes for one asset."""
    record: dict[str, Any] = {
        "photos_uuid": asset.photos_uuid,
        "filename": asset.filename,
        "content_type": asset.content_type,
        "media_type": asset.media_type,
        "width": asset.width,
        "height": asset.height,
        "taken_at": asset.taken_at.isoformat() if asset.taken_at else None,
        "location_lat": asset.location_lat,
        "location_lng": asset.location_lng,
        "is_favorite": asset.is_favorite,
        "is_hidden": asset.is_hidden,
        "timezone": asset.timezone,
    }
    if "original" in prints:
        record["checksum_sha256"] = prints["original"].sha256
        record["file_size"] = prints["original"].size
    record.update(asset.facts())
    binaries = asset.binaries()
    for kind in DECLARED_KINDS:
        if kind in prints and binaries.get(kind):
            record[f"{kind}_sha256"] = prints[kind].sha256
            record[f"{kind}_filename"] = plain_name(binaries[kind].name)
    return record


def record_hash(record: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()


class SyncPass:
    """Read → diff → metadata in batches → albums → deletions → pending uploads, 4 at a time.

    Once `stop` is set the pass ends at the next safe point with Stopped: hashing after its
    current chunk, metadata after its current batch, uploads after the files (or, for a
    resumable upload, the part) in flight. What was done is kept; the next pass does the rest.
    """

    def __init__(
        self,
        *,
        source: Source,
        state: AgentState,
        client: ServerClient,
        progress: Progress,
        workers: int = UPLOAD_WORKERS,
        resumable_threshold: int = RESUMABLE_THRESHOLD,
        stop: threading.Event | None = None,
        fetcher: OriginalFetcher | None = None,
        staging: Staging | None = None,
    ) -> None:
        self.source = source
        self.fetcher = fetcher or NoFetcher()
        self.staging = staging
        self.state = state
        self.client = client
        self.progress = progress
        self.workers = workers
        self.resumable_threshold = resumable_threshold
        self.fingerprints = Fingerprints(state)
        self.report = PassReport()
        self._lock = threading.Lock()
        self._stop = stop or threading.Event()

    def run(self) -> PassReport:
        try:
            return self._run()
        except Stopped:
            self.progress.set(phase="stopped")
            raise

    def _check_stop(self) -> None:
        if self._stop.is_set():
            raise Stopped("the pass was stopped; the next one picks up the rest")

    def _run(self) -> PassReport:
        started = time.monotonic()
        self.progress.set(
            phase="reading", source=self.source.describe(), pass_started=started, uploads_total=0,
            uploads_done=0, bytes_total=0, bytes_done=0, upload_started=None, cloud_total=0, cloud_done=0,
            waiting_reasons={},
        )  # fmt: skip
        try:
            with self.state.transaction():  # the source may cache file facts: one commit, not thousands
                snapshot = self.source.read()
        except Exception as exc:  # the whole source, not one asset: nothing to sync this time
            raise SourceUnreadable(f"cannot read {self.source.describe()}: {exc}") from exc
        for problem in snapshot.problems:
            self.progress.error(problem)
        self.report.problems = list(snapshot.problems)
        self.report.photos, self.report.albums = len(snapshot.assets), len(snapshot.albums)
        self.progress.set(photos=self.report.photos, albums=self.report.albums, phase="hashing")
        prints = self._fingerprint(snapshot)
        self._check_stop()
        self.progress.set(phase="metadata")
        self._send_metadata(snapshot, prints)
        self._report_deleted(snapshot)
        self._check_stop()
        self.progress.set(phase="albums")
        self._send_albums(snapshot)
        self._check_stop()
        self.progress.set(phase="uploading")
        self._upload_pending(snapshot, prints)
        self._check_stop()
        self.report.seconds = time.monotonic() - started
        self.state.put("last_success_at", now_iso())
        self.progress.set(
            phase="idle",
            last_success_at=self.state.get("last_success_at"),
            last_pass=self.report.as_json(),
            server_reachable=True,
            waiting_for_original=len(self.report.waiting_for_original),
        )
        return self.report

    def _fingerprint(self, snapshot: Snapshot) -> dict[str, dict[str, FileFingerprint]]:
        result: dict[str, dict[str, FileFingerprint]] = {}
        for start in range(0, len(snapshot.assets), HASH_COMMIT_EVERY):
            self._check_stop()
            with self.state.transaction():  # kept in chunks, so a killed pass keeps most of its hashing
                for asset in snapshot.assets[start : start + HASH_COMMIT_EVERY]:
                    result[asset.photos_uuid] = self._fingerprint_asset(asset)
        return result

    def _fingerprint_asset(self, asset: Asset) -> dict[str, FileFingerprint]:
        found: dict[str, FileFingerprint] = {}
        for kind, path in asset.binaries().items():
            try:
                found[kind] = self.fingerprints.of(path)
            except OSError as exc:
                problem = f"{asset.photos_uuid}: {kind} unreadable ({type(exc).__name__})"
                self.report.problems.append(problem)
                self.progress.error(problem)
        return found

    def _send_metadata(self, snapshot: Snapshot, prints: dict[str, dict[str, FileFingerprint]]) -> None:
        sent = self.state.record_hashes()
        changed: list[tuple[dict[str, Any], str]] = []
        for asset in snapshot.assets:
            record = build_record(asset, prints[asset.photos_uuid])
            digest = record_hash(record)
            if sent.get(asset.photos_uuid) != digest:
                changed.append((record, digest))
        for start in range(0, len(changed), BATCH):
            self._check_stop()
            batch = changed[start : start + BATCH]
            self.client.post_photos([record for record, _ in batch])
            self.state.mark_sent((record["photos_uuid"], digest) for record, digest in batch)
            self.report.metadata_sent += len(batch)

    def _report_deleted(self, snapshot: Snapshot) -> None:
        present = {asset.photos_uuid for asset in snapshot.assets}
        gone = sorted(set(self.state.record_hashes()) - present)
        if gone and not present:  # an unmounted disk or a moved library looks like "all deleted"
            self.progress.error(f"the source is empty; not reporting {len(gone)} photos as deleted")
            return
        for start in range(0, len(gone), DELETE_BATCH):
            batch = gone[start : start + DELETE_BATCH]
            self.client.report_deleted(batch)
            self.state.forget_assets(batch)
            self.report.deleted_reported += len(batch)

    def _send_albums(self, snapshot: Snapshot) -> None:
        albums = [album.as_json() for album in snapshot.albums]
        digest = record_hash({"albums": albums})
        if self.state.get("albums_hash") == digest:
            return
        self.client.post_albums(albums)
        self.state.put("albums_hash", digest)
        self.report.albums_sent = True

    def _upload_pending(self, snapshot: Snapshot, prints: dict[str, dict[str, FileFingerprint]]) -> None:
        assets = {asset.photos_uuid: asset for asset in snapshot.assets}
        jobs: list[tuple[str, str, FileFingerprint]] = []
        in_cloud: list[Asset] = []
        for photos_uuid, kind in self.client.pending():
            found = prints.get(photos_uuid, {}).get(kind)
            if photos_uuid not in assets:
                continue  # deleted here meanwhile (reported above), or another source's photo
            if found is None:
                if kind == "original" and assets[photos_uuid].original_in_cloud:
                    in_cloud.append(assets[photos_uuid])
                elif kind == "original":
                    self._waiting(photos_uuid, "not on this disk")
                continue
            jobs.append((photos_uuid, kind, found))
        self.progress.set(
            uploads_total=len(jobs),
            bytes_total=sum(job[2].size for job in jobs),
            upload_started=time.monotonic(),
            waiting_for_original=len(self.report.waiting_for_original),
        )
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="upload") as pool:
            futures = {pool.submit(self._upload_one, *job): job for job in jobs}
            self._collect(futures)
            if in_cloud:
                self._fetch_from_cloud(in_cloud, pool)
        self.progress.set(waiting_for_original=len(self.report.waiting_for_original))

    def _collect(self, futures: dict[Future[None], tuple[str, str, FileFingerprint]]) -> None:
        for future in as_completed(futures):
            error = future.exception()
            if isinstance(error, AgentError):  # revoked, or the server gone for too long
                for other in futures:
                    other.cancel()
                raise error
            if error is not None:  # this file only (vanished, unreadable): the others go on
                photos_uuid, kind, _ = futures[future]
                self._failed(f"{photos_uuid}: {kind} not uploaded ({type(error).__name__})")

    def _waiting(self, photos_uuid: str, reason: str) -> None:
        with self._lock:
            if photos_uuid not in self.report.waiting_reasons:
                self.report.waiting_for_original.append(photos_uuid)
            self.report.waiting_reasons[photos_uuid] = reason

    def _fetch_from_cloud(self, assets: list[Asset], pool: ThreadPoolExecutor) -> None:
        """Fetch each original into staging (within the budget), upload it, delete the copy.

        Downloads run one at a time here while earlier copies upload in the pool; a copy
        is deleted once its upload ended, whether it succeeded or not.
        """
        reason = self.fetcher.unavailable()
        if reason is not None or self.staging is None:
            for asset in assets:
                self._waiting(asset.photos_uuid, reason or "no staging folder")
            self._set_waiting_reasons()
            return
        staging = self.staging
        staging.clean()
        total = len(assets)
        self.progress.set(cloud_total=total, cloud_done=0, phase="fetching")
        futures: dict[Future[None], tuple[str, str, FileFingerprint]] = {}
        try:
            for done, asset in enumerate(assets, start=1):
                if self._stop.is_set():
                    break
                staged = self._fetch_one(asset, staging)
                self.progress.set(cloud_done=done)
                if staged is not None:
                    slot, fingerprint = staged
                    self.progress.add_upload(fingerprint.size)
                    future = pool.submit(self._upload_staged, asset.photos_uuid, slot, fingerprint)
                    futures[future] = (asset.photos_uuid, "original", fingerprint)
            self._collect(futures)
        finally:
            for future in futures:
                future.cancel()
            self._set_waiting_reasons()

    def _fetch_one(self, asset: Asset, staging: Staging) -> tuple[Path, FileFingerprint] | None:
        expected = asset.original_size or 0
        why_not = staging.reserve(expected, self._stop)
        if why_not is not None:
            if why_not != "stopped":
                self._waiting(asset.photos_uuid, why_not)
            return None
        slot = staging.new_slot()
        try:
            path = self.fetcher.fetch(asset, slot)
            size = path.stat().st_size
            fingerprint = FileFingerprint(path, size, sha256_file(path))
        except FetchFailed as exc:
            staging.release(slot, expected)
            self._waiting(asset.photos_uuid, str(exc) or "could not fetch it")
            return None
        except Exception as exc:  # one asset only: the others still get their turn
            staging.release(slot, expected)
            self._waiting(asset.photos_uuid, f"could not fetch it ({type(exc).__name__})")
            return None
        staging.adjust(expected, size)
        return slot, fingerprint

    def _upload_staged(self, photos_uuid: str, slot: Path, fingerprint: FileFingerprint) -> None:
        assert self.staging is not None
        try:
            if self._upload_file(photos_uuid, "original", fingerprint):
                with self._lock:
                    self.report.fetched_from_cloud += 1
            else:
                self._waiting(photos_uuid, "downloaded from iCloud but not uploaded; tried again next pass")
        finally:
            self.staging.release(slot, fingerprint.size)

    def _set_waiting_reasons(self) -> None:
        self.progress.set(
            waiting_for_original=len(self.report.waiting_for_original),
            waiting_reasons=reason_counts(self.report.waiting_reasons),
        )

    def _failed(self, message: str) -> None:
        with self._lock:
            self.report.failed.append(message)
        self.progress.error(message)

    def _upload_one(self, photos_uuid: str, kind: str, fingerprint: FileFingerprint) -> None:
        if self._stop.is_set():
            return  # not started: left for the next pass
        current = self.fingerprints.of(fingerprint.path)  # the file may have changed since hashing
        self._upload_file(photos_uuid, kind, current)

    def _upload_file(self, photos_uuid: str, kind: str, current: FileFingerprint) -> bool:
        """Send one file; the server checks its SHA-256 before keeping it. True once stored."""
        if self._stop.is_set():
            return False
        try:
            if current.size >= self.resumable_threshold:
                sent = self.client.upload_resumable(
                    photos_uuid=photos_uuid, kind=kind, path=current.path, sha256=current.sha256,
                    size=current.size, on_bytes=self.progress.add_bytes, stopping=self._stop.is_set,
                )  # fmt: skip
            else:
                self.client.put_binary(
                    photos_uuid=photos_uuid, kind=kind, path=current.path, sha256=current.sha256,
                    size=current.size, on_bytes=self.progress.add_bytes,
                )  # fmt: skip
                sent = current.size
        except RequestRejected as exc:
            self._failed(f"{photos_uuid}: {kind} refused ({exc.code})")
            return False
        except Stopped:
            return False  # the server keeps the parts it has; the next pass resumes from there
        self.state.mark_uploaded(photos_uuid, kind, current.sha256, current.size)
        with self._lock:
            self.report.uploads += 1
            self.report.bytes_sent += sent
        self.progress.upload_finished()
        return True
