"""Photo metadata from devices: batches of records, one record with its original, deletions."""

from __future__ import annotations

import functools
import operator
import os
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any

from sqlalchemy import Select, and_, bindparam, select, update
from sqlalchemy.orm import Session as DbSession

from image_assistant.core import files, months, search, synclog
from image_assistant.core.devices import DeviceRef
from image_assistant.core.files import FileKind, PhotoFiles
from image_assistant.core.records import FACT_FIELDS, DeletedPhotos, PhotoBatch, PhotoRecord, parse_json
from image_assistant.core.uploads import VerifiedReader
from image_assistant.db.bulk import insert_rows, one_of, values_param
from image_assistant.db.models import Base, Photo, PhotoFile
from image_assistant.db.session import GrowthAnalyzer
from image_assistant.errors import BadRequest, Unprocessable

RECORD_FIELDS = (
    "filename",
    "content_type",
    "media_type",
    "width",
    "height",
    "file_size",
    "taken_at",
    "location_lat",
    "location_lng",
    "is_favorite",
    "is_hidden",
    "checksum_sha256",
    "timezone",
    *FACT_FIELDS,
)
READ_SIZE = 1024 * 1024
# The columns whose statistics steer the plans asked while a library first syncs (this path's
# lookups, the timeline, search, the thumbnail queue): those of the indexes and of the gallery's
# conditions. ANALYZE of these alone costs a third of a whole one; the others (names, checksums,
# words, JSON facts) keep what autovacuum last found.
PLANNED_COLUMNS = (
    "id",
    "user_id",
    "photos_uuid",
    "device_id",
    "sort_at",
    "deleted_at",
    "is_hidden",
    "is_favorite",
    "media_type",
    "burst_id",
    "thumbnail_status",
    "search_vector",
)


@dataclass
class PhotoResult:
    photos_uuid: str
    status: str  # created | updated | unchanged
    needs_upload: bool
    id: uuid.UUID


@dataclass
class IngestResult:
    results: list[PhotoResult] = field(default_factory=list)
    reworded: list[uuid.UUID] = field(default_factory=list)  # updated photos whose words changed

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    def as_json(self) -> dict[str, Any]:
        return {
            "created": self.count("created"),
            "updated": self.count("updated"),
            "unchanged": self.count("unchanged"),
            "results": [
                {"photos_uuid": r.photos_uuid, "id": r.id, "status": r.status, "needs_upload": r.needs_upload}
                for r in self.results
            ],
        }


def sync_photos(db: DbSession, *, device: DeviceRef, body: bytes, analyzer: GrowthAnalyzer) -> dict[str, Any]:
    """A JSON batch `{"photos": [...]}`: validated, ingested, its files declared, logged."""
    with synclog.failures_logged(db, device_id=device.id, sync_type="photos"):
        batch = parse_json(body, PhotoBatch)
        result = _ingest_logged(db, device, batch.photos)
    _analyze_grown(analyzer, result.count("created"))
    return result.as_json()


def sync_photo_with_file(
    db: DbSession,
    *,
    device: DeviceRef,
    metadata: bytes,
    upload: IO[bytes] | None,
    photo_files: PhotoFiles,
    analyzer: GrowthAnalyzer,
) -> dict[str, Any]:
    """The original contract's multipart call: one record, and its original when sent along."""
    with synclog.failures_logged(db, device_id=device.id, sync_type="photos"):
        record = parse_json(metadata, PhotoRecord)
        answer = _ingest_with_file(db, device, record, upload, photo_files)
    _analyze_grown(analyzer, answer["created"])
    return answer


def _analyze_grown(analyzer: GrowthAnalyzer, created: int) -> None:
    """Fresh statistics of the PLANNED_COLUMNS once photos has grown enough (PostgreSQL only)."""
    if analyzer.due("photos", created):
        analyzer.analyze("photos", PLANNED_COLUMNS)


def _ingest_with_file(
    db: DbSession, device: DeviceRef, record: PhotoRecord, upload: IO[bytes] | None, photo_files: PhotoFiles
) -> dict[str, Any]:
    """The file is stored before the record is ingested: a body that fails its checks changes nothing."""
    if upload is None:
        return _ingest_logged(db, device, [record]).as_json()
    checksum = record.checksum_sha256
    if checksum is None:
        raise BadRequest("metadata needs checksum_sha256 to verify the file", code="checksum_required")
    known = db.scalar(
        select(Photo).where(Photo.user_id == device.user_id, Photo.photos_uuid == record.photos_uuid)
    )
    if known is not None and files.is_stored(db, photo=known, kind=FileKind.ORIGINAL, sha256=checksum):
        return _ingest_logged(db, device, [record]).as_json()
    started_at = datetime.now(UTC)
    staged = Photo(
        user_id=device.user_id,
        photos_uuid=record.photos_uuid,
        filename=record.filename,
        content_type=record.content_type,
    )
    target = files.target_for(db, photo=staged, kind=FileKind.ORIGINAL)
    reader = VerifiedReader(
        iter(lambda: upload.read(READ_SIZE), b""),
        expected_sha256=checksum,
        expected_length=None,
        max_bytes=photo_files.max_bytes,
    )
    photo_files.store.put(target.key, reader, content_type=target.content_type)
    answer = _ingest_logged(db, device, [record]).as_json()
    photo = files.find_photo(db, user_id=device.user_id, photos_uuid=record.photos_uuid)
    photo_files.record(
        db,
        device=device,
        photo=photo,
        kind=FileKind.ORIGINAL,
        target=target,
        sha256=reader.sha256,
        size=reader.size,
        started_at=started_at,
    )
    answer["results"][0]["needs_upload"] = False
    return answer


def _ingest_logged(db: DbSession, device: DeviceRef, records: list[PhotoRecord]) -> IngestResult:
    started_at = datetime.now(UTC)
    result = ingest_photos(db, device=device, records=records)
    search.refresh(db, result.reworded)
    files.declare(
        db,
        records=records,
        photo_ids={r.photos_uuid: r.id for r in result.results},
        new_photos={r.photos_uuid for r in result.results if r.status == "created"},
    )
    created, updated, unchanged = (result.count(s) for s in ("created", "updated", "unchanged"))
    synclog.log_sync(
        db,
        device_id=device.id,
        sync_type="photos",
        started_at=started_at,
        photos_synced=created + updated,
        created_count=created,
        updated_count=updated,
        unchanged_count=unchanged,
    )
    db.commit()
    return result


def _offset_minutes(taken_at: datetime | None) -> int | None:
    offset = None if taken_at is None else taken_at.utcoffset()
    return None if offset is None else int(offset.total_seconds() // 60)


_RECORD_VALUES = operator.itemgetter(*RECORD_FIELDS)


def _values(record: PhotoRecord) -> dict[str, Any]:
    values = dict(zip(RECORD_FIELDS, _RECORD_VALUES(vars(record)), strict=True))
    taken_at = record.taken_at
    values["taken_tz_offset"] = _offset_minutes(taken_at)
    if taken_at is not None:
        values["taken_at"] = taken_at.astimezone(UTC)
    if record.place is not None:
        values["place"] = record.place.model_dump()
    if record.camera is not None:
        values["camera"] = record.camera.model_dump()
    return values


def _differs(row: Mapping[Any, Any], values: dict[str, Any]) -> bool:
    if row["deleted_at"] is not None:
        return True
    for name, value in values.items():
        if name == "checksum_sha256" and value is None:
            continue
        if row[name] != value:
            return True
    return False


_PHOTOS_TABLE = Base.metadata.tables["photos"]
_photos = _PHOTOS_TABLE.c
_files = PhotoFile.__table__.c
# What ingest compares and answers with, read as plain rows: no ORM object per photo.
_KNOWN_PHOTOS = (
    select(
        _photos.photos_uuid,
        _photos.id,
        _photos.created_at,
        _photos.deleted_at,
        _photos.sort_at,
        _photos.taken_tz_offset,
        *(_photos[name] for name in RECORD_FIELDS),
        _files.object_key.label("original_key"),
        _files.sha256.label("original_sha256"),
    )
    .select_from(Photo)
    .outerjoin(PhotoFile, and_(_files.photo_id == _photos.id, _files.kind == FileKind.ORIGINAL.value))
)
_UPDATE_PHOTO = update(Photo).where(_photos.id == bindparam("photo_id"))


@functools.cache
def _known_photos(dialect: str) -> Select[Any]:
    """An owner's photos among a batch's photos_uuids: one statement, compiled once."""
    return _KNOWN_PHOTOS.where(_photos.user_id == bindparam("user_id"), one_of(dialect, _photos.photos_uuid))


def ingest_photos(db: DbSession, *, device: DeviceRef, records: Sequence[PhotoRecord]) -> IngestResult:
    """Create or update photo rows by (owner, photos_uuid); identical records are unchanged."""
    uuids = [r.photos_uuid for r in records]
    if len(set(uuids)) != len(uuids):
        raise Unprocessable("a batch names the same photos_uuid twice", code="duplicate_photos_uuid")
    connection = db.connection()
    dialect = connection.dialect.name
    found = connection.execute(
        _known_photos(dialect), {"user_id": device.user_id, "values": values_param(dialect, uuids)}
    )
    existing = {row.photos_uuid: row._mapping for row in found}
    now = datetime.now(UTC)
    result = IngestResult()
    new_rows: list[dict[str, Any]] = []
    changed_rows: list[dict[str, Any]] = []
    month_changes = months.Changes(device.user_id)
    fresh_ids = iter(new_ids(len(records) - len(existing)))  # photos_uuids are distinct (above)
    for record in records:
        values = _values(record)
        known = existing.get(record.photos_uuid)
        if known is None:
            row = _new_photo_row(device, record.photos_uuid, values, now, next(fresh_ids))
            new_rows.append(row)
            month_changes.photo(None, row)
            result.results.append(PhotoResult(record.photos_uuid, "created", True, row["id"]))
            continue
        current: Mapping[Any, Any] = known
        status = "unchanged"
        if _differs(known, values):
            changed_rows.append(_changed_photo_row(known, values, now))
            status, current = "updated", {**known, **changed_rows[-1]}
            month_changes.photo(known, current)
            if any(known[name] != values[name] for name in search.WORD_FIELDS):
                result.reworded.append(known["id"])
        result.results.append(PhotoResult(record.photos_uuid, status, needs_upload(current), known["id"]))
    if new_rows:
        search.with_vectors(db, new_rows)
        insert_rows(db, _PHOTOS_TABLE, new_rows)
        search.index_new(db, [row["id"] for row in new_rows])
    if changed_rows:
        connection.execute(_UPDATE_PHOTO, changed_rows)
        db.expire_all()  # a Photo loaded earlier in this session must not keep the old values
    month_changes.save(db)
    return result


def needs_upload(row: Mapping[Any, Any]) -> bool:
    """Whether the server lacks this photo's original (or holds an older one)."""
    if row["original_key"] is None:
        return True
    checksum = row["checksum_sha256"]
    return checksum is not None and checksum != row["original_sha256"]


def new_ids(count: int) -> list[uuid.UUID]:
    """`count` random (version 4) UUIDs from one read of the system's random source (uuid4
    makes one per id: a system call each)."""
    random = os.urandom(16 * count)
    return [uuid.UUID(bytes=random[i : i + 16], version=4) for i in range(0, 16 * count, 16)]


def _new_photo_row(
    device: DeviceRef, photos_uuid: str, values: dict[str, Any], now: datetime, photo_id: uuid.UUID
) -> dict[str, Any]:
    """A photos row for one COPY / executemany (new rows skip the ORM's unit of work)."""
    return {
        "id": photo_id,
        "user_id": device.user_id,
        "device_id": device.id,
        "photos_uuid": photos_uuid,
        "sort_at": values["taken_at"] or now,
        "created_at": now,
        "updated_at": now,
        "thumbnail_status": "pending",
        "thumbnail_attempts": 0,
        "search_text": search.text_of(values),  # a new photo is in no album yet
        **values,
    }


def _changed_photo_row(known: Mapping[Any, Any], values: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The parameters of one UPDATE for a photo whose metadata changed (or that came back)."""
    if values["checksum_sha256"] is None:
        values["checksum_sha256"] = known["checksum_sha256"]  # a record without one keeps ours
    return {
        **values,
        "photo_id": known["id"],
        "sort_at": values["taken_at"] or known["created_at"],
        "deleted_at": None,
        "updated_at": now,
    }


def report_deleted(db: DbSession, *, device: DeviceRef, body: bytes) -> dict[str, Any]:
    """Photos gone from the device's library: hidden from the gallery, their rows and files kept."""
    gone = parse_json(body, DeletedPhotos)
    now = datetime.now(UTC)
    removed = db.execute(
        update(Photo)
        .where(
            Photo.user_id == device.user_id,
            Photo.photos_uuid.in_(list(gone.photos_uuids)),
            Photo.deleted_at.is_(None),
        )
        .values(deleted_at=now)
        .returning(*(Photo.__table__.c[name] for name in months.FACTS))
    ).all()
    changes = months.Changes(device.user_id)
    for row in removed:
        changes.photo({**row._mapping, "deleted_at": None}, row._mapping)
    changes.save(db)
    db.commit()
    return {"deleted": len(removed)}
