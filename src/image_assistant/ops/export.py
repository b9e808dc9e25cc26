"""`export`: a user's library back out as plain files, a folder per album, each file with its sidecar.

Layout under the destination: an album's photos in `<folder>/<sub folder>/<album title>/`
(folders nested as in Photos), photos in no album at the top. A photo in two albums is in both
folders. A photo's files share its name: `IMG_1.HEIC` (original), `IMG_1.MOV` (Live video),
`IMG_1.CR2` (RAW), `IMG_1_edited.jpeg` (edited), and `IMG_1.HEIC.json` (the sidecar), so a
folder source pairs them again. Names are made unique with ` (2)`, ` (3)`… per photo.

Resumable: a file already there with the recorded size and SHA-256 is not copied again, so a
file left short by a killed run is written again by the next one.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import sessionmaker

from image_assistant.core import sidecars
from image_assistant.core.files import FileKind
from image_assistant.db.models import Album, AlbumPhoto, Photo, PhotoFile
from image_assistant.errors import ObjectNotFound, OperationFailed
from image_assistant.store.base import ObjectStore
from image_assistant.store.local import LocalStore

CHUNK = 1024 * 1024
BATCH = 1000  # photos planned at a time
SAME_NAME_KINDS = {FileKind.ORIGINAL.value, FileKind.LIVE_VIDEO.value, "raw"}
EDITED_KINDS = {FileKind.EDITED.value: "_edited", "edited_live_video": "_edited"}


@dataclass(frozen=True)
class Copy:
    """One stored object to one file under the destination."""

    key: str
    size: int | None
    sha256: str | None
    path: Path


@dataclass
class Plan:
    copies: list[Copy] = field(default_factory=list)
    sidecars: dict[Path, bytes] = field(default_factory=dict)


@dataclass
class Report:
    copied: int = 0
    unchanged: int = 0
    bytes: int = 0
    sidecars_written: int = 0
    missing: list[str] = field(default_factory=list)


Advance = Callable[[int, int], None]


def safe_name(name: str) -> str:
    """A file or folder name that is one plain path segment (no `/`, no leading dot)."""
    cleaned = "".join("_" if c in "/\\\0" or ord(c) < 32 else c for c in name).strip()
    if not cleaned or cleaned in (".", ".."):
        return "Untitled"
    return "_" + cleaned[1:] if cleaned.startswith(".") else cleaned


def album_folders(root: Path, albums: list[Album]) -> dict[uuid.UUID, Path]:
    """Each album's folder; two albums with the same path get ` (2)`, ` (3)`…"""
    folders: dict[uuid.UUID, Path] = {}
    taken: set[str] = set()
    for album in sorted(albums, key=lambda a: (sidecars.album_path(a), a.position, str(a.id))):
        parts = [safe_name(p) for p in sidecars.album_path(album)]
        candidate, number = parts, 1
        while "/".join(candidate).casefold() in taken:
            number += 1
            candidate = [*parts[:-1], f"{parts[-1]} ({number})"]
        taken.add("/".join(candidate).casefold())
        folders[album.id] = root.joinpath(*candidate)
    return folders


def file_names(photo: Photo, files: list[PhotoFile], suffix: str) -> dict[str, str]:
    """Kind → file name for one photo's files, all on the photo's stem plus `suffix`."""
    base = safe_name(photo.filename or f"{photo.photos_uuid}.bin")
    stem, ext = os.path.splitext(base)
    names: dict[str, str] = {}
    for row in sorted(files, key=lambda r: r.kind != FileKind.ORIGINAL.value):
        own_ext = os.path.splitext(row.filename)[1] or ext
        if row.kind == FileKind.ORIGINAL.value:
            name = f"{stem}{suffix}{ext}"
        elif row.kind in SAME_NAME_KINDS:
            name = f"{stem}{suffix}{own_ext}"
        else:
            name = f"{stem}{suffix}{EDITED_KINDS.get(row.kind, '_' + row.kind)}{own_ext}"
        if name.casefold() in {n.casefold() for n in names.values()}:
            name = f"{stem}{suffix}_{row.kind}{own_ext}"  # e.g. a RAW whose extension is the original's
        names[row.kind] = name
    return names


def place(folder: Path, photo: Photo, files: list[PhotoFile], taken: set[str]) -> dict[str, str]:
    """Names for the photo's files (and sidecar) in `folder`, unique among those `taken` there."""
    number = 1
    while True:
        names = file_names(photo, files, "" if number == 1 else f" ({number})")
        names["sidecar"] = names.get(FileKind.ORIGINAL.value, next(iter(names.values()))) + sidecars.SUFFIX
        wanted = {name.casefold() for name in names.values()}
        if not wanted & taken:
            taken.update(wanted)
            return names
        number += 1


def count_copies(db: DbSession, *, user_id: uuid.UUID) -> int:
    """How many files the export of this user copies: each stored file once per album folder its
    photo is in (once at the top for a photo in no album); the progress total, known up front."""
    listed = and_(Photo.user_id == user_id, Photo.deleted_at.is_(None))
    stored = and_(PhotoFile.photo_id == Photo.id, PhotoFile.object_key.is_not(None))
    per_photo = (
        (
            select(Photo.id, func.count(PhotoFile.photo_id).label("files"))
            .join(PhotoFile, stored)
            .where(listed)
        )
        .group_by(Photo.id)
        .subquery()
    )
    folders = (
        select(AlbumPhoto.photo_id, func.count().label("folders"))
        .join(Album, Album.id == AlbumPhoto.album_id)
        .where(Album.user_id == user_id)
        .group_by(AlbumPhoto.photo_id)
        .subquery()
    )
    total = select(func.sum(per_photo.c.files * func.coalesce(folders.c.folders, 1))).select_from(
        per_photo.outerjoin(folders, folders.c.photo_id == per_photo.c.id)
    )
    return int(db.scalar(total) or 0)


def plan_batches(db: DbSession, *, user_id: uuid.UUID, root: Path) -> Iterator[Plan]:
    """Every copy and sidecar of the user's library (photos removed from the library left out),
    BATCH photos at a time in timeline order, so copying can start before the plan is whole."""
    ids = list(
        db.scalars(
            select(Photo.id)
            .where(Photo.user_id == user_id, Photo.deleted_at.is_(None))
            .order_by(Photo.sort_at, Photo.photos_uuid)
        )
    )
    albums = list(db.scalars(select(Album).where(Album.user_id == user_id)))
    folders = album_folders(root, albums)
    paths = {album.id: sidecars.album_path(album) for album in albums}
    photo_albums: dict[uuid.UUID, list[uuid.UUID]] = {}
    member = select(AlbumPhoto.album_id, AlbumPhoto.photo_id).join(Album, Album.id == AlbumPhoto.album_id)
    for album_id, photo_id in db.execute(member.where(Album.user_id == user_id)):
        photo_albums.setdefault(photo_id, []).append(album_id)
    taken: dict[Path, set[str]] = {}
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        photos = {p.id: p for p in db.scalars(select(Photo).where(Photo.id.in_(batch)))}
        stored: dict[uuid.UUID, list[PhotoFile]] = {}
        rows = select(PhotoFile).where(PhotoFile.photo_id.in_(batch), PhotoFile.object_key.is_not(None))
        for row in db.scalars(rows):
            stored.setdefault(row.photo_id, []).append(row)
        listed = [photos[photo_id] for photo_id in batch if stored.get(photo_id)]
        plan = Plan()
        for photo in listed:
            files = sorted(stored[photo.id], key=lambda r: r.kind)
            in_albums = photo_albums.get(photo.id, [])
            description = sidecars.describe(photo, albums=[paths[a] for a in in_albums], files=files)
            document = sidecars.render(description)
            for folder in sorted([folders[a] for a in in_albums] or [root]):
                names = place(folder, photo, files, taken.setdefault(folder, set()))
                plan.copies += [
                    Copy(r.object_key or "", r.size, r.sha256, folder / names[r.kind]) for r in files
                ]
                plan.sidecars[folder / names["sidecar"]] = document
        db.expunge_all()  # a batch's rows are not needed again: memory stays bounded
        yield plan


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def is_done(copy: Copy) -> bool:
    """Already there as stored: same size and, when recorded, the same SHA-256."""
    try:
        if copy.size is not None and copy.path.stat().st_size != copy.size:
            return False
    except FileNotFoundError:
        return False
    return copy.sha256 is None or sha256_file(copy.path) == copy.sha256


def copy_one(store: ObjectStore, copy: Copy, fresh: bool) -> tuple[str, int]:
    """`unchanged`, `copied` or `missing`. Written in place: a copy cut short has the wrong size or
    SHA-256, so the next run writes it again. The store's own integrity is `verify`'s job.
    `fresh`: the file's folder was made by this run, so nothing of it can be there yet."""
    if not fresh and is_done(copy):
        return "unchanged", 0
    try:
        if isinstance(store, LocalStore):
            return "copied", copy_file(store.path_of(copy.key), copy.path)
        chunks = store.open(copy.key)
        size = 0
        with copy.path.open("wb") as out:
            for chunk in chunks:
                out.write(chunk)
                size += len(chunk)
        return "copied", size
    except ObjectNotFound:
        return "missing", 0


def copy_file(source: Path, target: Path) -> int:
    """Copy with plain reads and writes of up to CHUNK bytes; returns the size. On ext4 with a
    store's many photo-sized files this took less time than copy_file_range or shutil.copyfile's
    sendfile (bench/export.py), whose per-file setup outweighs the copy itself."""
    reading = os.open(source, os.O_RDONLY)
    try:
        writing = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            size = 0
            while chunk := os.read(reading, CHUNK):
                view = memoryview(chunk)
                while view:
                    view = view[os.write(writing, view) :]
                size += len(chunk)
        finally:
            os.close(writing)
    finally:
        os.close(reading)
    return size


def write_sidecar(path: Path, document: bytes, fresh: bool) -> bool:
    """Write the sidecar unless it is there already with these bytes."""
    if not fresh:
        try:
            if path.read_bytes() == document:
                return False
        except FileNotFoundError:
            pass
    path.write_bytes(document)
    return True


def _empty(folder: Path) -> bool:
    with os.scandir(folder) as entries:
        return next(entries, None) is None


class Writer:
    """Copies and sidecars on a pool of threads, batch after batch as they are planned; the
    folders of a batch are made before its files are handed out."""

    def __init__(self, store: ObjectStore, *, jobs: int, advance: Advance) -> None:
        self.store = store
        self.advance = advance
        self.report = Report()
        self.pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="export")
        self.fresh: set[Path] = set()  # folders this run made: nothing in them can be there yet
        self.seen_folders: set[Path] = set()
        self.paths: set[Path] = set()
        self.copies: list[tuple[Copy, Future[tuple[str, int]]]] = []
        self.sidecars: list[Future[bool]] = []

    def submit(self, plan: Plan) -> None:
        for path in [copy.path for copy in plan.copies] + list(plan.sidecars):
            if path in self.paths:
                raise OperationFailed("two files of the export would share a name")  # a bug, never the user's
            self.paths.add(path)
        self._make_folders(
            {copy.path.parent for copy in plan.copies} | {path.parent for path in plan.sidecars}
        )
        self.copies += [(copy, self.pool.submit(self._copy, copy)) for copy in plan.copies]
        self.sidecars += [self.pool.submit(self._sidecar, *item) for item in plan.sidecars.items()]

    def finish(self) -> Report:
        """Wait for every file handed out; the report of the whole run."""
        try:
            for copy, future in self.copies:
                outcome, size = future.result()
                self.report.bytes += size
                if outcome == "unchanged":
                    self.report.unchanged += 1
                elif outcome == "missing":
                    self.report.missing.append(copy.key)
                else:
                    self.report.copied += 1
            self.report.sidecars_written = sum(future.result() for future in self.sidecars)
        finally:
            self.pool.shutdown(cancel_futures=True)
        return self.report

    def _make_folders(self, folders: set[Path]) -> None:
        """Make the batch's folders. Those this run makes, with the parents made on the way (an
        album's folder can make the top one), and those found empty hold nothing to resume."""
        for folder in sorted(folders - self.seen_folders):
            self.seen_folders.add(folder)
            missing = []
            at = folder
            while not at.is_dir():
                missing.append(at)
                at = at.parent
            if missing:
                folder.mkdir(parents=True, exist_ok=True)
                self.fresh.update(missing)
            elif _empty(folder):
                self.fresh.add(folder)

    def _copy(self, copy: Copy) -> tuple[str, int]:
        outcome = copy_one(self.store, copy, copy.path.parent in self.fresh)
        self.advance(1, outcome[1])
        return outcome

    def _sidecar(self, path: Path, document: bytes) -> bool:
        return write_sidecar(path, document, path.parent in self.fresh)


def export(
    *,
    sessions: sessionmaker[DbSession],
    store: ObjectStore,
    users: list[tuple[uuid.UUID, Path]],
    jobs: int,
    on_start: Callable[[int], Advance],
) -> Report:
    """Export each (user, folder). The total is counted first (for progress); then each batch of
    the plan is copied while the next one is planned."""
    with sessions() as db:
        total = sum(count_copies(db, user_id=user_id) for user_id, _ in users)
        writer = Writer(store, jobs=jobs, advance=on_start(total))
        try:
            for user_id, root in users:
                for plan in plan_batches(db, user_id=user_id, root=root):
                    writer.submit(plan)
        finally:
            report = writer.finish()
    return report
