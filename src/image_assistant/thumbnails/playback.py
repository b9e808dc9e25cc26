"""Playback rendition jobs, start to end: claim the rendition row, transcode, store, record or retry.

A rendition row (db.models.PlaybackRendition) per source file: the original of a video (`original`),
a Live video (`live_video`), or the edited version of either (`edited`, `edited_live_video`).
States: pending → processing → completed | failed, or not_needed when browsers play the source as
it is. As for thumbnails, the row counts attempts, so a job delivered
twice or re-queued by the reconciler only redoes the same work.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import sessionmaker

from image_assistant.config import Settings
from image_assistant.db.models import Photo, PlaybackRendition
from image_assistant.db.session import rows_changed
from image_assistant.errors import QueueUnavailable
from image_assistant.store.base import ObjectStore
from image_assistant.store.keys import extension_of, rendition_key
from image_assistant.thumbnails.queue import ThumbnailJob, ThumbnailQueue
from image_assistant.thumbnails.transcode import (
    DEFAULT_ENCODING,
    Encoding,
    UnplayableVideo,
    playable_as_is,
    transcode_in_child,
)

log = logging.getLogger("image_assistant.thumbnails")
ACTIVE = ("pending", "processing")
# Job kind on the queue → kind of the file the rendition is made from.
JOB_SOURCES = {
    "playback": "original",
    "live_playback": "live_video",
    "edited_playback": "edited",
    "edited_live_playback": "edited_live_video",
}
MUTED = ("live_video", "edited_live_video")  # a Live Photo's motion plays muted
SOURCE_JOBS = {source: job for job, source in JOB_SOURCES.items()}
BATCH = 500


def mark_rendition_queued(
    db: DbSession, *, photo_id: uuid.UUID, source_kind: str, source_key: str, source_sha256: str | None
) -> None:
    """(Re)start the rendition of a file that was just stored; commit, then `enqueue_rendition`."""
    row = db.get(PlaybackRendition, (photo_id, source_kind))
    if row is None:
        row = PlaybackRendition(photo_id=photo_id, kind=source_kind)
        db.add(row)
    row.source_key = source_key
    row.source_sha256 = source_sha256
    row.status = "pending"
    row.error = None
    row.attempts = 0
    row.queued_at = datetime.now(UTC)
    row.started_at = None


def enqueue_rendition(queue: ThumbnailQueue, photo_id: uuid.UUID | str, source_kind: str, key: str) -> bool:
    """Put a rendition job on the queue; never raises (the reconciler enqueues it later)."""
    try:
        queue.enqueue(ThumbnailJob(str(photo_id), key, (), SOURCE_JOBS[source_kind]))
    except QueueUnavailable as exc:
        log.warning("could not enqueue the playback of photo %s (the reconciler will): %s", photo_id, exc)
        return False
    return True


@dataclass(frozen=True)
class Claim:
    photo_id: uuid.UUID
    source_kind: str
    owner_id: uuid.UUID
    photos_uuid: str
    attempt: int


@dataclass(frozen=True)
class Made:
    status: str  # completed | not_needed
    key: str | None = None
    width: int | None = None
    height: int | None = None


class PlaybackRunner:
    """Runs playback jobs against one database and store; one transcode at a time per process
    (x264 spreads one over every core; two at once would only double the memory), each in a
    child process (its memory goes back to the system when it ends)."""

    def __init__(
        self,
        *,
        settings: Settings,
        sessions: sessionmaker[DbSession],
        store: ObjectStore,
        queue: ThumbnailQueue,
        encoding: Encoding = DEFAULT_ENCODING,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.store = store
        self.queue = queue
        self.encoding = encoding
        self._one_at_a_time = threading.Lock()

    def run(self, job: ThumbnailJob) -> None:
        """Process one job; every failure ends in a retry or a `failed` rendition, never an exception."""
        try:
            self._run(job)
        except Exception as exc:  # the database went away mid-job: the reconciler re-queues it
            log.warning("playback job of photo %s stopped: %s: %s", job.photo_id, type(exc).__name__, exc)

    def _run(self, job: ThumbnailJob) -> None:
        claim = self._claim(job)
        self.queue.release_taken()  # claimed (or skipped): from now on the lease holds it
        if claim is None:
            return
        log.info("playback attempt %d for photo %s (%s) started", claim.attempt, claim.photo_id, job.kind)
        try:
            with self._one_at_a_time:
                made = self._make(job, claim)
        except Exception as exc:  # any failure of this attempt: decode, encode, store, I/O
            self._failed_attempt(job, claim, _reason(exc))
            return
        self._complete(job, claim, made)

    def _claim(self, job: ThumbnailJob) -> Claim | None:
        source_kind = JOB_SOURCES.get(job.kind)
        photo_id = _uuid(job.photo_id)
        if source_kind is None or photo_id is None:
            log.warning("playback job of an unknown kind or photo id; skipped")
            return None
        with self.sessions() as db, db.begin():
            row = db.get(PlaybackRendition, (photo_id, source_kind), with_for_update=True)
            photo = db.get(Photo, photo_id)
            if (
                row is None
                or photo is None
                or photo.deleted_at is not None
                or row.source_key != job.source_key
            ):
                log.info("playback job for photo %s is stale; skipped", job.photo_id)
                return None
            if row.status not in ACTIVE:
                log.info("the playback of photo %s is already %s; job skipped", job.photo_id, row.status)
                return None
            row.status = "processing"
            row.attempts += 1
            row.started_at = datetime.now(UTC)
            return Claim(photo_id, source_kind, photo.user_id, photo.photos_uuid, row.attempts)

    def _make(self, job: ThumbnailJob, claim: Claim) -> Made:
        workdir = Path(tempfile.mkdtemp(prefix="ia-playback-"))
        try:
            source = workdir / f"source.{extension_of(job.source_key)}"
            with source.open("wb") as handle:
                for chunk in self.store.open(job.source_key):
                    handle.write(chunk)
            if playable_as_is(source):
                return Made("not_needed")
            target = workdir / "playback.mp4"
            audio = claim.source_kind not in MUTED
            rendered = transcode_in_child(source, target, audio=audio, encoding=self.encoding)
            key = rendition_key(claim.owner_id, claim.photos_uuid, claim.source_kind)
            with target.open("rb") as handle:
                self.store.put(key, handle, content_type="video/mp4")
            return Made("completed", key, rendered.width, rendered.height)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def _complete(self, job: ThumbnailJob, claim: Claim, made: Made) -> None:
        with self.sessions() as db, db.begin():
            done = rows_changed(
                db.execute(
                    update(PlaybackRendition)
                    .where(
                        PlaybackRendition.photo_id == claim.photo_id,
                        PlaybackRendition.kind == claim.source_kind,
                        PlaybackRendition.source_key == job.source_key,
                        PlaybackRendition.status.in_(ACTIVE),
                    )
                    .values(
                        status=made.status,
                        error=None,
                        object_key=made.key,
                        width=made.width,
                        height=made.height,
                        started_at=None,
                    )
                )
            )
        if done:
            log.info("playback of photo %s %s (attempt %d)", claim.photo_id, made.status, claim.attempt)

    def _failed_attempt(self, job: ThumbnailJob, claim: Claim, reason: str) -> None:
        limit = self.settings.thumbnail_max_attempts
        final = claim.attempt >= limit
        delay = self.settings.thumbnail_retry_seconds * 2 ** (claim.attempt - 1)
        now = datetime.now(UTC)
        with self.sessions() as db, db.begin():
            db.execute(
                update(PlaybackRendition)
                .where(
                    PlaybackRendition.photo_id == claim.photo_id,
                    PlaybackRendition.kind == claim.source_kind,
                    PlaybackRendition.status == "processing",
                )
                .values(
                    status="failed" if final else "pending",
                    error=reason if final else f"attempt {claim.attempt} of {limit}: {reason}",
                    queued_at=None if final else now + timedelta(seconds=delay),
                    started_at=None,
                )
            )
        if final:
            log.warning("playback of photo %s failed after %d attempts: %s", claim.photo_id, limit, reason)
            return
        log.warning(
            "playback attempt %d of photo %s failed (%s); retrying", claim.attempt, claim.photo_id, reason
        )
        try:
            self.queue.enqueue(job, delay=delay)
        except QueueUnavailable as exc:
            log.warning(
                "could not schedule the retry of photo %s (the reconciler will): %s", claim.photo_id, exc
            )


def reconcile_playback(
    *,
    sessions: sessionmaker[DbSession],
    queue: ThumbnailQueue,
    stuck_after: int,
    lease: int,
    max_attempts: int,
) -> int:
    """Re-queue renditions pending for `stuck_after` seconds or processing under a lapsed lease
    (thumbnails/lease.py); give up on those whose every attempt stopped its worker. Returns how
    many were re-queued."""
    now = datetime.now(UTC)
    cutoff = (now - timedelta(seconds=stuck_after), now - timedelta(seconds=lease))
    with sessions() as db:
        rows = db.execute(
            select(
                PlaybackRendition.photo_id,
                PlaybackRendition.kind,
                PlaybackRendition.source_key,
                PlaybackRendition.status,
                PlaybackRendition.attempts,
            )
            .join(Photo, Photo.id == PlaybackRendition.photo_id)
            .where(_stuck(cutoff), Photo.deleted_at.is_(None))  # a restored photo's comes back
            .limit(BATCH)
        ).all()
    requeued = 0
    for photo_id, kind, key, status, attempts in rows:
        give_up = status == "processing" and attempts >= max_attempts
        values: dict[str, object] = (
            {"status": "failed", "error": f"the worker stopped during each of {attempts} attempts"}
            if give_up
            else {"status": "pending", "queued_at": now}
        )
        with sessions() as db, db.begin():
            changed = rows_changed(
                db.execute(
                    update(PlaybackRendition)
                    .where(
                        PlaybackRendition.photo_id == photo_id, PlaybackRendition.kind == kind, _stuck(cutoff)
                    )
                    .values(started_at=None, **values)
                )
            )
        if changed and not give_up and enqueue_rendition(queue, photo_id, kind, key):
            requeued += 1
    if requeued:
        log.info("reconciler: %d playback job(s) re-queued", requeued)
    return requeued


def _stuck(cutoff: tuple[datetime, datetime]) -> ColumnElement[bool]:
    queued_before, renewed_before = cutoff
    pending = and_(
        PlaybackRendition.status == "pending",
        or_(PlaybackRendition.queued_at.is_(None), PlaybackRendition.queued_at < queued_before),
    )
    processing = and_(
        PlaybackRendition.status == "processing",
        or_(PlaybackRendition.started_at.is_(None), PlaybackRendition.started_at < renewed_before),
    )
    return or_(pending, processing)


def _reason(exc: Exception) -> str:
    if isinstance(exc, UnplayableVideo):
        return str(exc)[:500]
    return f"{type(exc).__name__}: {exc}"[:500]


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
