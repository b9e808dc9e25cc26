"""One thumbnail job, start to end: claim the photo, render, store, record or retry.

The job's source is the version the gallery shows: the edited version when there is one, else
the original. With an edit, the original's thumbnails are made too (`thumbs/<size>-original/`),
for "Show original".

States on the photo row: pending → processing → completed | failed. The row counts attempts,
so a job delivered twice, or re-queued by the reconciler, never does more than redo the same work.
"""

from __future__ import annotations

import io
import logging
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import sessionmaker

from image_assistant.config import Settings
from image_assistant.db.models import Photo, PhotoFile
from image_assistant.db.session import rows_changed
from image_assistant.errors import QueueUnavailable
from image_assistant.store.base import ObjectStore
from image_assistant.store.keys import (
    AVIF_SIZES,
    THUMBNAIL_SIZES,
    extension_of,
    thumbnail_key,
    thumbnail_type,
)
from image_assistant.thumbnails.formats import UndecodableImage
from image_assistant.thumbnails.queue import ThumbnailJob, ThumbnailQueue

log = logging.getLogger("image_assistant.thumbnails")
ACTIVE = ("pending", "processing")


@dataclass(frozen=True)
class Claim:
    """A photo this worker now processes, as it was when claimed."""

    photo_id: uuid.UUID
    owner_id: uuid.UUID
    photos_uuid: str
    source_sha256: str | None
    attempt: int
    original_key: str | None  # the stored original, when the source is another file (an edit)
    of_edit: bool  # the source is the edited version


def mark_queued(photo: Photo, *, now: datetime | None = None) -> None:
    """Reset a photo's job bookkeeping as its (new) job is enqueued."""
    photo.thumbnail_status = "pending"
    photo.thumbnail_error = None
    photo.thumbnail_attempts = 0
    photo.thumbnail_queued_at = now or datetime.now(UTC)
    photo.thumbnail_started_at = None


def enqueue(
    queue: ThumbnailQueue,
    photo_id: uuid.UUID | str,
    source_key: str,
    sizes: tuple[str, ...] = tuple(THUMBNAIL_SIZES),
) -> bool:
    """Put a photo's job on the queue once its bookkeeping is committed (`mark_queued`).

    Never raises for the queue: when it is unreachable the photo stays `pending` and the
    reconciler enqueues it later (every size). Returns whether the job is on the queue now.
    """
    try:
        queue.enqueue(ThumbnailJob(str(photo_id), source_key, sizes))
    except QueueUnavailable as exc:
        log.warning("could not enqueue thumbnails of photo %s (the reconciler will): %s", photo_id, exc)
        return False
    return True


class JobRunner:
    """Runs thumbnail jobs against one database and store (bind `run` to a queue)."""

    def __init__(
        self,
        *,
        settings: Settings,
        sessions: sessionmaker[DbSession],
        store: ObjectStore,
        queue: ThumbnailQueue,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.store = store
        self.queue = queue

    def run(self, job: ThumbnailJob) -> None:
        """Process one job; every failure ends in a retry or a `failed` photo, never an exception."""
        try:
            self._run(job)
        except Exception as exc:  # the database went away mid-job: the reconciler re-queues it
            log.warning("thumbnail job of photo %s stopped: %s: %s", job.photo_id, type(exc).__name__, exc)

    def _run(self, job: ThumbnailJob) -> None:
        time.sleep(self.settings.test_claim_pause)
        claim = self._claim(job)
        self.queue.release_taken()  # claimed (or skipped): from now on the lease holds it
        if claim is None:
            return
        log.info("thumbnail attempt %d for photo %s started", claim.attempt, claim.photo_id)
        time.sleep(self.settings.test_job_pause)
        try:
            keys = self._make(job, claim)
        except Exception as exc:  # any failure of this attempt: decode, store, I/O
            self._failed_attempt(job, claim, _reason(exc))
            return
        self._complete(claim, keys)

    def _claim(self, job: ThumbnailJob) -> Claim | None:
        photo_id = _uuid(job.photo_id)
        if photo_id is None:
            log.warning("thumbnail job with a malformed photo id; skipped")
            return None
        with self.sessions() as db, db.begin():
            photo = db.get(Photo, photo_id, with_for_update=True)
            if photo is None or photo.deleted_at is not None or photo.thumbnail_source_key != job.source_key:
                log.info("thumbnail job for photo %s is stale; skipped", job.photo_id)
                return None
            if photo.thumbnail_status not in ACTIVE:
                log.info("photo %s is already %s; job skipped", job.photo_id, photo.thumbnail_status)
                return None
            photo.thumbnail_status = "processing"
            photo.thumbnail_attempts += 1
            photo.thumbnail_started_at = datetime.now(UTC)
            original = db.get(PhotoFile, (photo.id, "original"))
            original_key = original.object_key if original is not None else None
            return Claim(
                photo.id,
                photo.user_id,
                photo.photos_uuid,
                photo.thumbnail_source_sha256,
                photo.thumbnail_attempts,
                original_key if original_key != job.source_key else None,
                original_key != job.source_key,
            )

    def _make(self, job: ThumbnailJob, claim: Claim) -> dict[str, str]:
        """The thumbnails of the job's source (and of the original, when the source is an edit)."""
        sizes = [s for s in job.sizes if s in THUMBNAIL_SIZES] or list(THUMBNAIL_SIZES)
        if claim.original_key is not None:
            self._render(claim.original_key, claim, sizes, of_original=True)
        return self._render(job.source_key, claim, sizes, of_original=False)

    def _render(
        self, source_key: str, claim: Claim, sizes: list[str], *, of_original: bool
    ) -> dict[str, str]:
        # Here, not at the top: it loads libvips, which an API process without a worker never needs.
        from image_assistant.thumbnails.render import render_thumbnails

        workdir = Path(tempfile.mkdtemp(prefix="ia-thumb-"))
        try:
            source = workdir / f"source.{extension_of(source_key)}"
            with source.open("wb") as handle:
                for chunk in self.store.open(source_key):
                    handle.write(chunk)
            rendered = render_thumbnails(
                source,
                sizes,
                quality=self.settings.thumbnail_jpeg_quality,
                avif_quality=self.settings.thumbnail_avif_quality,
            )
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        keys: dict[str, str] = {}
        for size, data in rendered.items():
            key = thumbnail_key(claim.owner_id, claim.photos_uuid, size, of_original=of_original)
            self.store.put(key, io.BytesIO(data), content_type=thumbnail_type(size))
            keys[size] = key
        return keys

    def _complete(self, claim: Claim, keys: dict[str, str]) -> None:
        values: dict[str, object] = {
            f"thumbnail_{size}_key": key for size, key in keys.items() if size not in AVIF_SIZES
        }
        if set(AVIF_SIZES) <= keys.keys():
            values["thumbnail_avif"] = True  # their keys follow from the photo's (store/keys.py)
        values.update(thumbnail_status="completed", thumbnail_error=None, thumbnail_started_at=None)
        values.update(thumbnail_of_edit=claim.of_edit)
        with self.sessions() as db, db.begin():
            done = rows_changed(
                db.execute(
                    update(Photo)
                    .where(Photo.id == claim.photo_id, Photo.thumbnail_source_sha256 == claim.source_sha256)
                    .where(Photo.thumbnail_status.in_(ACTIVE))
                    .values(**values)
                )
            )
        if done:
            log.info("thumbnails of photo %s completed (attempt %d)", claim.photo_id, claim.attempt)
        else:
            log.info("photo %s changed while its thumbnails were made; its newer job decides", claim.photo_id)

    def _failed_attempt(self, job: ThumbnailJob, claim: Claim, reason: str) -> None:
        limit = self.settings.thumbnail_max_attempts
        final = claim.attempt >= limit
        delay = self.settings.thumbnail_retry_seconds * 2 ** (claim.attempt - 1)
        now = datetime.now(UTC)
        status = "failed" if final else "pending"
        message = f"attempt {claim.attempt} of {limit}: {reason}"
        with self.sessions() as db, db.begin():
            db.execute(
                update(Photo)
                .where(Photo.id == claim.photo_id, Photo.thumbnail_status == "processing")
                .values(
                    thumbnail_status=status,
                    thumbnail_error=reason if final else message,
                    thumbnail_queued_at=None if final else now + timedelta(seconds=delay),
                    thumbnail_started_at=None,
                )
            )
        if final:
            log.warning("thumbnails of photo %s failed after %d attempts: %s", claim.photo_id, limit, reason)
            return
        log.warning(
            "thumbnail attempt %d of %d for photo %s failed (%s); retrying in %d s",
            claim.attempt,
            limit,
            claim.photo_id,
            reason,
            delay,
        )
        try:
            self.queue.enqueue(job, delay=delay)
        except QueueUnavailable as exc:
            log.warning(
                "could not schedule the retry of photo %s (the reconciler will): %s", claim.photo_id, exc
            )


def _reason(exc: Exception) -> str:
    if isinstance(exc, UndecodableImage):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"[:500]


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
