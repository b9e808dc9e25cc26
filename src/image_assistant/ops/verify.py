"""`verify`: re-read every stored file of every photo, compare it with the database, find orphans.

A file is *missing* when its row names an object the store lacks, *damaged* when the object's
size or SHA-256 differs from the row's. An *orphan* is an object under a photo file prefix
(`originals/`, `edited/`, …) that no row names (its sidecar `<key>.json` counts as named).
`repair` makes missing and damaged files wanted again, so the agent that has them sends them.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import sessionmaker

from image_assistant.core.files import POLICIES
from image_assistant.db.models import Photo, PhotoFile
from image_assistant.errors import ObjectNotFound
from image_assistant.store.base import ObjectStore

SIDECAR_SUFFIX = ".json"


@dataclass(frozen=True)
class StoredFile:
    """A file the database says is stored: where, how big, which SHA-256."""

    photo_id: uuid.UUID
    photos_uuid: str
    photo_filename: str
    kind: str
    key: str
    size: int | None
    sha256: str | None


@dataclass(frozen=True)
class Problem:
    file: StoredFile
    state: Literal["missing", "damaged"]
    detail: str = ""


@dataclass
class Report:
    checked: int = 0
    bytes: int = 0
    problems: list[Problem] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.problems and not self.orphans

    def by_photo(self) -> dict[str, list[Problem]]:
        grouped: dict[str, list[Problem]] = {}
        for problem in sorted(self.problems, key=lambda p: (p.file.photos_uuid, p.file.kind)):
            grouped.setdefault(problem.file.photos_uuid, []).append(problem)
        return grouped


Advance = Callable[[int, int], None]


def stored_files(db: DbSession, *, user_id: uuid.UUID | None) -> list[StoredFile]:
    query = (
        select(
            PhotoFile.photo_id,
            Photo.photos_uuid,
            Photo.filename,
            PhotoFile.kind,
            PhotoFile.object_key,
            PhotoFile.size,
            PhotoFile.sha256,
        )
        .join(Photo, Photo.id == PhotoFile.photo_id)
        .where(PhotoFile.object_key.is_not(None))
    )
    if user_id is not None:
        query = query.where(Photo.user_id == user_id)
    return [
        StoredFile(photo_id, photos_uuid, filename, kind, key or "", size, sha256)
        for photo_id, photos_uuid, filename, kind, key, size, sha256 in db.execute(
            query.order_by(PhotoFile.object_key)
        )
    ]


def known_keys(db: DbSession) -> set[str]:
    """Every object key any file row names (all users: an orphan is named by no row at all)."""
    keys = db.scalars(select(PhotoFile.object_key).where(PhotoFile.object_key.is_not(None)))
    return {key for key in keys if key is not None}


def check_file(store: ObjectStore, file: StoredFile) -> tuple[Problem | None, int]:
    """Read the object through and compare; returns the problem (or None) and the bytes read."""
    digest = hashlib.sha256()
    size = 0
    try:
        for chunk in store.open(file.key):
            digest.update(chunk)
            size += len(chunk)
    except ObjectNotFound:
        return Problem(file, "missing", "no object at its key"), 0
    if file.size is not None and size != file.size:
        return Problem(file, "damaged", f"{size} bytes, {file.size} recorded"), size
    if file.sha256 is not None and digest.hexdigest() != file.sha256:
        return Problem(file, "damaged", "SHA-256 differs from the one recorded"), size
    return None, size


def photo_prefixes(user_id: uuid.UUID | None) -> list[str]:
    owner = f"{user_id}/" if user_id is not None else ""
    return sorted({f"{policy.key_prefix}/{owner}" for policy in POLICIES.values()})


def find_orphans(store: ObjectStore, *, known: set[str], prefixes: Iterable[str]) -> list[str]:
    orphans = []
    for prefix in prefixes:
        for key in store.list_keys(prefix):
            named = key.removesuffix(SIDECAR_SUFFIX) if key.endswith(SIDECAR_SUFFIX) else key
            if named not in known:
                orphans.append(key)
    return sorted(orphans)


def check_all(store: ObjectStore, files: list[StoredFile], *, jobs: int, advance: Advance) -> Report:
    """Check `files` with `jobs` threads (hashing and store reads release the GIL)."""
    report = Report()

    def one(file: StoredFile) -> tuple[Problem | None, int]:
        problem, size = check_file(store, file)
        advance(1, size)
        return problem, size

    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="verify") as pool:
        for problem, size in pool.map(one, files):
            report.checked += 1
            report.bytes += size
            if problem is not None:
                report.problems.append(problem)
    return report


def choose(files: list[StoredFile], sample: int | None) -> list[StoredFile]:
    if sample is None or sample >= len(files):
        return files
    return sorted(random.sample(files, sample), key=lambda f: f.key)


def verify(
    *,
    sessions: sessionmaker[DbSession],
    store: ObjectStore,
    user_id: uuid.UUID | None,
    sample: int | None,
    jobs: int,
    on_start: Callable[[int], Advance],
) -> Report:
    """Check the chosen files (all, or `sample` of them at random), then look for orphans."""
    with sessions() as db:
        files = choose(stored_files(db, user_id=user_id), sample)
        known = known_keys(db)
    report = check_all(store, files, jobs=jobs, advance=on_start(len(files)))
    report.orphans = find_orphans(store, known=known, prefixes=photo_prefixes(user_id))
    return report


def repair(sessions: sessionmaker[DbSession], problems: Iterable[Problem]) -> int:
    """Make each missing or damaged file wanted again: the row forgets its object and keeps the
    SHA-256 it should have, so `GET /api/sync/pending` lists it and the agent sends it again.
    A damaged object stays where it is until the new upload replaces it."""
    repaired = 0
    with sessions() as db:
        for problem in problems:
            row = db.get(PhotoFile, (problem.file.photo_id, problem.file.kind))
            if row is None or row.object_key != problem.file.key:
                continue  # changed since it was checked: a new upload already arrived
            row.declared_sha256 = row.declared_sha256 or row.sha256
            row.object_key = None
            row.sha256 = None
            row.size = None
            row.stored_at = None
            repaired += 1
        db.commit()
    return repaired


def iter_report_lines(report: Report) -> Iterator[str]:
    """The problems by photo, then the orphans: what the command prints."""
    for photos_uuid, problems in report.by_photo().items():
        yield f"photo {photos_uuid} ({problems[0].file.photo_filename}):"
        for problem in problems:
            yield f"  {problem.state} {problem.file.kind} {problem.file.key}: {problem.detail}"
    if report.orphans:
        yield "orphaned objects (no photo names them):"
        yield from (f"  {key}" for key in report.orphans)
