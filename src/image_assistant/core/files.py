"""A photo's files: the kinds there are, what each kind does, and one path for a file that arrives.

Every file of a photo (its original, edited version, Live video…) is one `PhotoFile` row.
Adding a kind is a line in `FileKind` and its `KindPolicy`; a device declares a file in the
photo's metadata (`checksum_sha256` for the original, `<kind>_sha256` for the others) and
uploads it through `PhotoFiles.receive`, or a resumable upload that ends in `PhotoFiles.record`.
"""

from __future__ import annotations

import functools
import logging
import mimetypes
import operator
import secrets
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, update
from sqlalchemy.orm import Session as DbSession

from image_assistant.core import synclog
from image_assistant.core.devices import DeviceRef
from image_assistant.core.records import PhotoRecord, check_sha256
from image_assistant.core.uploads import VerifiedReader
from image_assistant.db.bulk import one_of, values_param
from image_assistant.db.models import Photo, PhotoFile
from image_assistant.errors import BadRequest, NotFound
from image_assistant.store.base import ObjectStore
from image_assistant.store.keys import photo_file_key, validate_key
from image_assistant.thumbnails.jobs import enqueue, mark_queued
from image_assistant.thumbnails.playback import enqueue_rendition, mark_rendition_queued
from image_assistant.thumbnails.queue import ThumbnailQueue

log = logging.getLogger("image_assistant.uploads")


class FileKind(StrEnum):
    ORIGINAL = "original"
    EDITED = "edited"
    LIVE_VIDEO = "live_video"
    RAW = "raw"  # the RAW of a RAW+JPEG pair (a RAW-only photo's RAW is its original)
    EDITED_LIVE_VIDEO = "edited_live_video"  # the video of an edited Live Photo


@dataclass(frozen=True)
class KindPolicy:
    """What a kind of file is to the server."""

    key_prefix: str  # its objects: <prefix>/<owner>/<U[0]>/<UUID><suffix>.<ext>
    always_wanted: bool = False  # wanted before any checksum is declared (the original)
    thumbnail_source: bool = False  # storing it (re)makes the photo's thumbnails
    playback: str = "never"  # a playback rendition of it is made: never, videos (when a video), always
    key_suffix: str = ""  # after the UUID, as Photos.app names this kind in its originals folder


POLICIES: dict[FileKind, KindPolicy] = {
    FileKind.ORIGINAL: KindPolicy("originals", always_wanted=True, thumbnail_source=True, playback="videos"),
    FileKind.EDITED: KindPolicy("edited", thumbnail_source=True, playback="videos"),
    # A Live Photo's video sits beside its photo in a library's originals folder: <UUID>_3.mov.
    FileKind.LIVE_VIDEO: KindPolicy("originals", playback="always", key_suffix="_3"),
    FileKind.RAW: KindPolicy("raw"),
    FileKind.EDITED_LIVE_VIDEO: KindPolicy("edited_live", playback="always"),
}
DECLARED_KINDS = tuple(kind for kind in FileKind if kind is not FileKind.ORIGINAL)
KIND_ORDER = {kind: index for index, kind in enumerate(FileKind)}


def parse_kind(value: str) -> FileKind:
    try:
        return FileKind(value)
    except ValueError:
        names = ", ".join(FileKind)
        raise BadRequest(f"kind must be one of {names}", code="invalid_kind") from None


def content_type_of(filename: str) -> str:
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


def find_photo(db: DbSession, *, user_id: uuid.UUID, photos_uuid: str) -> Photo:
    photo = db.scalar(select(Photo).where(Photo.user_id == user_id, Photo.photos_uuid == photos_uuid))
    if photo is None:
        raise NotFound("no photo with this photos_uuid; send its metadata first", code="photo_not_found")
    return photo


def find_file(db: DbSession, *, photo_id: uuid.UUID, kind: FileKind) -> PhotoFile | None:
    return db.get(PhotoFile, (photo_id, kind.value))


def stored_files(db: DbSession, *, photo_id: uuid.UUID) -> list[PhotoFile]:
    """The files the server holds for a photo, in kind order."""
    rows = db.scalars(
        select(PhotoFile).where(PhotoFile.photo_id == photo_id, PhotoFile.object_key.is_not(None))
    )
    return sorted(rows, key=lambda row: KIND_ORDER.get(FileKind(row.kind), len(KIND_ORDER)))


def is_stored(db: DbSession, *, photo: Photo, kind: FileKind, sha256: str) -> bool:
    row = find_file(db, photo_id=photo.id, kind=kind)
    return row is not None and row.object_key is not None and row.sha256 == sha256


@dataclass(frozen=True)
class Target:
    """Where a file of a kind goes, and what it is called."""

    key: str
    filename: str
    content_type: str


def target_for(db: DbSession, *, photo: Photo, kind: FileKind) -> Target:
    """The key, file name and content type a file of `kind` of this photo is stored under."""
    row = find_file(db, photo_id=photo.id, kind=kind)
    named = canonical_target(photo=photo, kind=kind, row=row)
    return Target(_beside(named.key, row.object_key if row is not None else None), named.filename,
                  named.content_type)  # fmt: skip


def canonical_target(*, photo: Photo, kind: FileKind, row: PhotoFile | None) -> Target:
    """Where a file of `kind` belongs in the Photos.app layout (a new version may sit beside it
    until the next one; `migrate-keys` moves it home)."""
    if kind is FileKind.ORIGINAL:
        filename, content_type = photo.filename, photo.content_type
    else:
        filename = (row.filename if row is not None and row.filename else None) or photo.filename
        content_type = content_type_of(filename)
    policy = POLICIES[kind]
    key = photo_file_key(
        policy.key_prefix, photo.user_id, photo.photos_uuid, filename, content_type, suffix=policy.key_suffix
    )
    return Target(key, filename, content_type)


def _beside(key: str, stored: str | None) -> str:
    """A key no row points at: a new version never overwrites the one the database names, so a
    crash before the commit leaves the old version whole (the new object is then an orphan)."""
    if stored != key:
        return key
    stem, ext = key.rsplit(".", 1)
    return validate_key(f"{stem}.{secrets.token_hex(4)}.{ext}")


_DECLARED_SHA256 = operator.attrgetter(*(f"{kind.value}_sha256" for kind in DECLARED_KINDS))


def declared_sha256(record: PhotoRecord, kind: FileKind) -> str | None:
    if kind is FileKind.ORIGINAL:
        return record.checksum_sha256
    value: str | None = getattr(record, f"{kind.value}_sha256")
    return value


def declared_filename(record: PhotoRecord, kind: FileKind) -> str:
    if kind is FileKind.ORIGINAL:
        return record.filename
    value: str = getattr(record, f"{kind.value}_filename")
    return value or record.filename


@functools.cache
def _file_rows(dialect: str) -> Select[PhotoFile]:
    """The file rows of a batch's photos: one statement, compiled once."""
    return select(PhotoFile).where(one_of(dialect, PhotoFile.__table__.c.photo_id))


def declare(
    db: DbSession, *, records: Sequence[PhotoRecord], photo_ids: dict[str, uuid.UUID], new_photos: set[str]
) -> None:
    """Keep what each record says of its files (checksum, name) on their rows.

    `photo_ids` maps each record's photos_uuid to its row (as ingest found or made it).
    Photos created in this batch have no file rows yet, so they are not looked up; their
    original's declaration is the photo's own `checksum_sha256`.
    """
    records = [r for r in records if r.photos_uuid not in new_photos or _declares_files(r)]
    if not records:
        return
    known = [photo_ids[r.photos_uuid] for r in records if r.photos_uuid not in new_photos]
    stored: dict[uuid.UUID, dict[str, PhotoFile]] = defaultdict(dict)
    if known:
        dialect = db.get_bind().dialect.name
        for row in db.scalars(_file_rows(dialect), {"values": values_param(dialect, known)}):
            stored[row.photo_id][row.kind] = row
    reverted: list[uuid.UUID] = []
    for record in records:
        photo_id = photo_ids[record.photos_uuid]
        rows = stored.get(photo_id)
        if rows is None and not _declares_files(record):
            continue  # no file stored, none but the original declared: nothing to keep
        for kind in FileKind:
            if _declare_one(db, (rows or {}).get(kind.value), photo_id, kind, record):
                reverted.append(photo_id)
    db.flush()
    if reverted:
        _show_originals(db, reverted)


def _declare_one(
    db: DbSession, row: PhotoFile | None, photo_id: uuid.UUID, kind: FileKind, record: PhotoRecord
) -> bool:
    """Record one file's declaration; True when it withdraws a stored edit (the edit was reverted)."""
    sha256 = declared_sha256(record, kind)
    if kind is FileKind.ORIGINAL:
        if row is not None and sha256 is not None:
            row.declared_sha256 = sha256  # a changed original is pending again until it arrives
        return False
    if sha256 is None:
        withdrawn = row is not None and row.declared_sha256 is not None and row.object_key is not None
        if row is not None:
            row.declared_sha256 = None  # the edit was reverted: nothing more to fetch
        return withdrawn and kind is FileKind.EDITED
    if row is None:
        row = PhotoFile(photo_id=photo_id, kind=kind.value)
        db.add(row)
    row.declared_sha256 = sha256
    row.filename = declared_filename(record, kind)
    row.content_type = content_type_of(row.filename)
    return False


def _show_originals(db: DbSession, photo_ids: list[uuid.UUID]) -> None:
    """Photos whose edit was reverted show their original again: their thumbnails are pending
    from it, with no queued time, so the reconciler queues them on its next round."""
    original = select(PhotoFile).where(
        PhotoFile.photo_id == Photo.id,
        PhotoFile.kind == FileKind.ORIGINAL.value,
        PhotoFile.object_key.is_not(None),
    )
    db.execute(
        update(Photo)
        .where(Photo.id.in_(photo_ids), original.exists())
        .values(
            thumbnail_source_key=original.with_only_columns(PhotoFile.object_key).scalar_subquery(),
            thumbnail_source_sha256=original.with_only_columns(PhotoFile.sha256).scalar_subquery(),
            thumbnail_status="pending",
            thumbnail_error=None,
            thumbnail_attempts=0,
            thumbnail_queued_at=None,
            thumbnail_started_at=None,
        )
    )


def _declares_files(record: PhotoRecord) -> bool:
    """Whether a record declares a file besides its original."""
    return any(sha256 is not None for sha256 in _DECLARED_SHA256(record))


def _pending_row() -> ColumnElement[bool]:
    """A file row that waits for its bytes: declared and not stored as declared."""
    return and_(
        PhotoFile.declared_sha256.is_not(None),
        or_(PhotoFile.object_key.is_(None), PhotoFile.sha256 != PhotoFile.declared_sha256),
    )


def pending_items(
    db: DbSession, *, user_id: uuid.UUID, after: str | None, limit: int
) -> tuple[list[tuple[str, FileKind]], str | None]:
    """(photos_uuid, kind) the server lacks for up to `limit` photos after `after`; and the cursor."""
    live = [Photo.user_id == user_id, Photo.deleted_at.is_(None)]
    if after:
        live.append(Photo.photos_uuid > after)
    wanted = [kind.value for kind, policy in POLICIES.items() if policy.always_wanted]
    missing = (
        select(Photo.photos_uuid, PhotoFile.kind)
        .join(PhotoFile, PhotoFile.photo_id == Photo.id)
        .where(*live, _pending_row())
    )
    items = [(u, FileKind(k)) for u, k in db.execute(missing.order_by(Photo.photos_uuid).limit(limit * 2))]
    for kind in wanted:
        absent = (
            select(Photo.photos_uuid)
            .outerjoin(PhotoFile, and_(PhotoFile.photo_id == Photo.id, PhotoFile.kind == kind))
            .where(*live, PhotoFile.object_key.is_(None))
        )
        items += [(u, FileKind(kind)) for u in db.scalars(absent.order_by(Photo.photos_uuid).limit(limit))]
    photos = sorted({u for u, _ in items})
    cursor = photos[limit - 1] if len(photos) >= limit else None
    kept = set(photos[:limit])
    ordered = sorted(set(i for i in items if i[0] in kept), key=lambda i: (i[0], KIND_ORDER[i[1]]))
    return ordered, cursor


def original_counts(db: DbSession, scope: Sequence[ColumnElement[bool]]) -> tuple[int, int]:
    """Photos in `scope` whose original is stored, and those whose original the server lacks."""
    original = and_(PhotoFile.photo_id == Photo.id, PhotoFile.kind == FileKind.ORIGINAL.value)
    lacking = or_(PhotoFile.object_key.is_(None), PhotoFile.sha256 != PhotoFile.declared_sha256)
    stored, pending = db.execute(
        select(func.count(PhotoFile.object_key), func.count().filter(lacking))
        .select_from(Photo)
        .outerjoin(PhotoFile, original)
        .where(*scope)
    ).one()
    return int(stored), int(pending)


@dataclass(frozen=True)
class Received:
    """What became of a file that arrived."""

    photos_uuid: str
    kind: FileKind
    status: str  # stored | unchanged
    sha256: str
    size: int | None = None

    def as_json(self) -> dict[str, object]:
        body: dict[str, object] = {
            "photos_uuid": self.photos_uuid,
            "kind": self.kind.value,
            "status": self.status,
            "sha256": self.sha256,
        }
        if self.size is not None:
            body["size"] = self.size
        return body


class PhotoFiles:
    """Files arriving from devices: check, store, record, log, queue derived work, drop the replaced."""

    def __init__(
        self, *, store: ObjectStore, queue: ThumbnailQueue, max_bytes: int, pause_before_commit: float = 0
    ) -> None:
        self.store = store
        self.queue = queue
        self.max_bytes = max_bytes
        self.pause_before_commit = pause_before_commit  # tests only: a window to kill the server in

    def receive(
        self,
        db: DbSession,
        *,
        device: DeviceRef,
        photos_uuid: str,
        kind: FileKind,
        sha256: str | None,
        length: int | None,
        chunks: Iterator[bytes],
    ) -> Received:
        """A file streamed in `chunks`, stored if it has the SHA-256 declared for it: `sha256` (the
        request's header, unchecked), or for an original without one, the metadata's checksum."""
        photo = find_photo(db, user_id=device.user_id, photos_uuid=photos_uuid)
        declared = _declared_for_body(sha256, photo, kind)
        if is_stored(db, photo=photo, kind=kind, sha256=declared):
            return Received(photo.photos_uuid, kind, "unchanged", declared)
        reader = VerifiedReader(
            chunks, expected_sha256=declared, expected_length=length, max_bytes=self.max_bytes
        )
        return self.store_stream(db, device=device, photo=photo, kind=kind, reader=reader)

    def store_stream(
        self, db: DbSession, *, device: DeviceRef, photo: Photo, kind: FileKind, reader: VerifiedReader
    ) -> Received:
        """Write the reader's bytes at the kind's key (nothing is kept if its checks fail), then record."""
        started_at = datetime.now(UTC)
        target = target_for(db, photo=photo, kind=kind)
        self.store.put(target.key, reader, content_type=target.content_type)
        return self.record(
            db,
            device=device,
            photo=photo,
            kind=kind,
            target=target,
            sha256=reader.sha256,
            size=reader.size,
            started_at=started_at,
        )

    def record(
        self,
        db: DbSession,
        *,
        device: DeviceRef,
        photo: Photo,
        kind: FileKind,
        target: Target,
        sha256: str,
        size: int,
        started_at: datetime,
    ) -> Received:
        """Point the photo's file row at the stored object, log the upload, queue its derived work,
        commit, then delete an object it replaced."""
        replaced = _point_at(db, photo=photo, kind=kind, target=target, sha256=sha256, size=size)
        policy = POLICIES[kind]
        shown = shown_file(db, photo=photo) if policy.thumbnail_source else None
        thumbnail_source = shown.object_key if shown is not None else None
        if shown is not None:
            photo.thumbnail_source_key = shown.object_key
            photo.thumbnail_source_sha256 = shown.sha256
            # In this very commit: a pending photo without a queued time looks stuck to the
            # reconciler, which would queue a second job for it.
            mark_queued(photo)
        playback = _needs_playback(photo, kind, target)
        if playback:
            mark_rendition_queued(
                db, photo_id=photo.id, source_kind=kind.value, source_key=target.key, source_sha256=sha256
            )
        synclog.log_sync(
            db,
            device_id=device.id,
            sync_type="upload",
            started_at=started_at,
            photos_synced=1,
            bytes_received=size,
        )
        if replaced is not None and self.pause_before_commit:
            log.warning(
                "replacement stored; pausing %.1fs before its commit (test hook)", self.pause_before_commit
            )
            time.sleep(self.pause_before_commit)
        db.commit()
        if thumbnail_source is not None:
            enqueue(self.queue, photo.id, thumbnail_source)
        if playback:
            enqueue_rendition(self.queue, photo.id, kind.value, target.key)
        if replaced is not None:
            try:
                self.store.delete(replaced)
            except Exception:  # the new object is safe; an orphan is only wasted space
                log.warning("could not delete a replaced %s", kind.value)
        return Received(photo.photos_uuid, kind, "stored", sha256, size)


def shown_file(db: DbSession, *, photo: Photo) -> PhotoFile | None:
    """The stored file the gallery shows: the edited version while one is declared, else the original."""
    edited = find_file(db, photo_id=photo.id, kind=FileKind.EDITED)
    if edited is not None and edited.object_key is not None and edited.declared_sha256 is not None:
        return edited
    original = find_file(db, photo_id=photo.id, kind=FileKind.ORIGINAL)
    return original if original is not None and original.object_key is not None else None


def _needs_playback(photo: Photo, kind: FileKind, target: Target) -> bool:
    """Whether a playback rendition of this file is (re)made: Live videos and videos, originals
    and edited versions alike.
    The job itself finds a video browsers play as it is (`not_needed`)."""
    playback = POLICIES[kind].playback
    is_video = photo.media_type == "video" or target.content_type.startswith("video/")
    return playback == "always" or (playback == "videos" and is_video)


def _declared_for_body(header: str | None, photo: Photo, kind: FileKind) -> str:
    if header:
        try:
            return check_sha256(header)
        except ValueError:
            raise BadRequest("X-Content-SHA256 must be 64 hex digits", code="invalid_checksum") from None
    if kind is FileKind.ORIGINAL and photo.checksum_sha256:
        return photo.checksum_sha256
    raise BadRequest("send the body's SHA-256 in X-Content-SHA256", code="checksum_required")


def _point_at(
    db: DbSession, *, photo: Photo, kind: FileKind, target: Target, sha256: str, size: int
) -> str | None:
    """Record the stored object on the file's row; returns a replaced key (another extension)."""
    row = find_file(db, photo_id=photo.id, kind=kind)
    if row is None:
        row = PhotoFile(photo_id=photo.id, kind=kind.value, declared_sha256=sha256)
        db.add(row)
    replaced = row.object_key if row.object_key not in (None, target.key) else None
    row.filename = target.filename
    row.content_type = target.content_type
    row.object_key = target.key
    row.sha256 = sha256
    row.size = size
    row.stored_at = datetime.now(UTC)
    if kind is FileKind.ORIGINAL:
        row.declared_sha256 = sha256
        photo.checksum_sha256 = sha256
        photo.file_size = size
    elif row.declared_sha256 is None:
        row.declared_sha256 = sha256
    db.flush()
    return replaced
