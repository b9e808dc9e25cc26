"""Exports: a set (or a shared album) as renditions of one preset, in a zip streamed as made.

`plan` reads the database once (what each photo's source file is, its name in the zip); the
zip is then written from the store and the renderer alone, so no session is held while it
streams. Renditions are cached in the store by (source SHA-256, preset, focal point): a second
download copies them. The zip is written to the response as it grows, through a pipe that
zipfile writes into and the response drains (constant memory, no temporary file).
"""

from __future__ import annotations

import io
import logging
import shutil
import tempfile
import uuid
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from image_assistant.core.files import FileKind
from image_assistant.core.lossless import NotLossless, clean_jpeg
from image_assistant.core.presets import CROP, FULL, Preset, file_name
from image_assistant.core.publish import FocalPoint, Member
from image_assistant.db.models import Photo, PhotoFile
from image_assistant.errors import AppError, Conflict, NotFound
from image_assistant.store.base import ObjectStore
from image_assistant.store.keys import extension_of, validate_key
from image_assistant.thumbnails.formats import sniff

if TYPE_CHECKING:
    from image_assistant.core.renditions import Rendition

log = logging.getLogger("image_assistant.publish")
REPORT_NAME = "REPORT.txt"
WRITE_SIZE = 256 * 1024  # the zip goes to the response in pieces of this size, not a photo at a time


@dataclass(frozen=True)
class Source:
    """The file a rendition is made from: the edited version when there is one."""

    key: str
    sha256: str
    kind: str


@dataclass(frozen=True)
class Item:
    photo_id: uuid.UUID
    owner_id: uuid.UUID
    number: int
    name: str  # its file name in the zip
    focal: FocalPoint
    source: Source | None  # None: neither the original nor an edit is on the server yet
    media_type: str = "photo"


@dataclass
class Plan:
    title: str
    preset: Preset
    items: list[Item]

    @property
    def zip_name(self) -> str:
        from image_assistant.core.presets import slug

        return f"{slug(self.title)}-{self.preset.name}.zip"


def sources(db: DbSession, photo_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Source]:
    """Each photo's stored edited version while one is declared, else its stored original: the
    file the gallery shows (files.shown_file), for many photos in one query."""
    found: dict[uuid.UUID, Source] = {}
    kinds = (FileKind.EDITED.value, FileKind.ORIGINAL.value)
    for start in range(0, len(photo_ids), 500):
        chunk = list(photo_ids[start : start + 500])
        rows = db.scalars(
            select(PhotoFile).where(
                PhotoFile.photo_id.in_(chunk), PhotoFile.kind.in_(kinds), PhotoFile.object_key.is_not(None)
            )
        )
        for row in rows:
            if row.sha256 is None or row.object_key is None:
                continue
            if row.kind == FileKind.EDITED.value and row.declared_sha256 is None:
                continue  # a reverted edit: the original is what the gallery shows (files.shown_file)
            if row.photo_id not in found or row.kind == FileKind.EDITED.value:
                found[row.photo_id] = Source(row.object_key, row.sha256, row.kind)
    return found


def plan_names(title: str, preset: Preset, members: Sequence[Member]) -> list[str]:
    """Each member's file name, from the preset's pattern and its place in the order."""
    return [
        file_name(
            preset,
            set_title=title,
            number=i + 1,
            count=len(members),
            taken_at=m.photo.taken_at,
            original=m.photo.filename,
        )
        for i, m in enumerate(members)
    ]


def plan(
    db: DbSession, *, title: str, preset: Preset, members: Sequence[Member], only: uuid.UUID | None = None
) -> Plan:
    """What the zip will hold (or just the photo `only`, numbered as in the whole);
    409 when not one photo has a file on the server yet."""
    chosen = [(i, m) for i, m in enumerate(members) if only is None or m.photo.id == only]
    found = sources(db, [m.photo.id for _, m in chosen])
    names = plan_names(title, preset, members)
    items = [
        Item(
            photo_id=m.photo.id,
            owner_id=m.photo.user_id,
            number=i + 1,
            name=names[i],
            focal=m.focal,
            source=found.get(m.photo.id),
            media_type=m.photo.media_type,
        )
        for i, m in chosen
    ]
    if items and all(item.source is None for item in items):
        raise Conflict(
            "none of these photos has its original on the server yet; sync first",
            code="originals_missing",
            details={"photo_ids": [str(i.photo_id) for i in items[:50]]},
        )
    return Plan(title, preset, items)


def set_photo(
    db: DbSession, *, title: str, preset: Preset, members: Sequence[Member], photo_id: uuid.UUID
) -> Item:
    """One photo of a set, named and numbered as in the set's zip; 404 when the set does not
    hold it, 409 when its file is not on the server yet."""
    if not any(m.photo.id == photo_id for m in members):
        raise NotFound("no such photo in this set", code="photo_not_found")
    return plan(db, title=title, preset=preset, members=members, only=photo_id).items[0]


def lone_photo(db: DbSession, *, photo: Photo, preset: Preset) -> Item:
    """A photo on its own, as a set of one titled after its file name (`img-0001-01.jpg` with the
    default pattern), its crops around the centre; 409 when its file is not on the server yet."""
    title = photo.filename.rsplit(".", 1)[0] if photo.filename else "photo"
    return plan(db, title=title, preset=preset, members=[Member(photo)]).items[0]


def rendition_key(owner_id: uuid.UUID, source: Source, preset: Preset, focal: FocalPoint) -> str:
    """`renditions/<owner>/<sha256>/<preset signature>[-<focal point>].jpg`."""
    where = f"-f{focal.x:.3f}-{focal.y:.3f}" if preset.mode == CROP else ""
    return validate_key(f"renditions/{owner_id}/{source.sha256}/{preset.signature}{where}.jpg")


def failure_key(rendition: str) -> str:
    """Beside a rendition's key: a note that the queue tried and could not make it."""
    return validate_key(rendition.removesuffix(".jpg") + "-failed.txt")


def copied_as_is(item: Item, preset: Preset) -> bool:
    """A JPEG in `original-clean`: its metadata is cut out as it streams, nothing is rendered
    (unless it is turned or not sRGB: then it is rendered while the zip streams)."""
    return (
        preset.mode == FULL
        and item.source is not None
        and item.source.key.lower().endswith((".jpg", ".jpeg"))
    )


def _has(store: ObjectStore, key: str) -> bool:
    try:
        store.head(key)
    except AppError:
        return False
    return True


def unready(plan: Plan, store: ObjectStore) -> list[Item]:
    """The items whose rendition the zip would have to make now: not cached, not a failure the
    queue already met, not missing (a line in the report) and not a JPEG copied as is."""
    waiting = []
    for item in plan.items:
        if item.source is None or item.media_type == "video" or copied_as_is(item, plan.preset):
            continue
        key = rendition_key(item.owner_id, item.source, plan.preset, item.focal)
        if not _has(store, key) and not _has(store, failure_key(key)):
            waiting.append(item)
    return waiting


class Renderer:
    """Renditions of stored photos, made once and kept in the store."""

    def __init__(self, store: ObjectStore, *, workdir: Path | None = None) -> None:
        self.store = store
        self.workdir = workdir

    def prepare(self, item: Item, preset: Preset) -> bool:
        """Make and cache the item's rendition unless it is there (the queue's job); when it
        cannot be made, leave a note beside it so that progress counts it as done (the zip that
        follows tries once more and takes the note away). True: made."""
        assert item.source is not None
        key = rendition_key(item.owner_id, item.source, preset, item.focal)
        if _has(self.store, key):
            return False
        try:
            rendition = self.render(item, [preset])[preset.name]
        except Exception as exc:  # the zip names it in REPORT.txt when it tries again
            note = exc.message if isinstance(exc, AppError) else f"{type(exc).__name__}: {exc}"
            log.warning("rendition of photo %s in %s failed: %s", item.photo_id, preset.name, note)
            self.store.put(failure_key(key), io.BytesIO(note.encode()), content_type="text/plain")
            return False
        self.store.put(key, io.BytesIO(rendition.data), content_type="image/jpeg")
        self.store.delete(failure_key(key))  # an earlier attempt's note, if any
        return True

    def pieces(self, item: Item, preset: Preset) -> tuple[Iterator[bytes | memoryview], str | None]:
        """The rendition's bytes (cached, cleaned or rendered now) and a note for the report."""
        assert item.source is not None
        key = rendition_key(item.owner_id, item.source, preset, item.focal)
        if preset.mode == FULL and item.source.key.lower().endswith((".jpg", ".jpeg")):
            data = _read_whole(self.store, item.source.key)
            try:
                return iter(clean_jpeg(data)), None
            except NotLossless:
                pass  # turned or not sRGB: its pixels are converted below
        try:
            self.store.head(key)
            return self.store.open(key), None
        except AppError:
            pass
        try:
            rendition = self.render(item, [preset])[preset.name]
            self.store.put(key, io.BytesIO(rendition.data), content_type="image/jpeg")
        finally:
            # This was the retry the queue's note of a failure waited for: made or not (the report
            # then says so), the note goes, and the next large download queues the photo again.
            self.store.delete(failure_key(key))
        return iter([rendition.data]), _short_note(rendition)

    def render(self, item: Item, presets: Sequence[Preset]) -> dict[str, Rendition]:
        assert item.source is not None
        workdir = Path(tempfile.mkdtemp(prefix="ia-publish-", dir=self.workdir))
        try:
            path = workdir / f"source.{extension_of(item.source.key)}"
            with path.open("wb") as handle:
                for chunk in self.store.open(item.source.key):
                    handle.write(chunk)
            if sniff(path) == "video":
                raise Conflict("a video is not exported", code="not_a_photo")
            # Here, not at the top: it loads libvips, which a zip of clean originals never needs.
            from image_assistant.core.renditions import render

            return render(path, presets, item.focal)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)


def _read_whole(store: ObjectStore, key: str) -> bytearray:
    """An object read into one buffer of its size (joining its chunks would hold it twice)."""
    data = bytearray(store.head(key).size)
    at = 0
    for chunk in store.open(key):
        data[at : at + len(chunk)] = chunk
        at += len(chunk)
    del data[at:]  # an object shorter than its listing (rewritten meanwhile) keeps no tail
    return data


def _short_note(rendition: Rendition) -> str | None:
    if rendition.short_of is None:
        return None
    w, h = rendition.short_of
    return f"smaller than the preset's {w}x{h}: made {rendition.width}x{rendition.height}, not enlarged"


class _Pipe(io.RawIOBase):
    """What zipfile writes to: bytes wait here until the response takes them."""

    def __init__(self) -> None:
        self._pieces: list[bytes] = []
        self._written = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        self._pieces.append(bytes(data))
        self._written += len(data)
        return len(data)

    def tell(self) -> int:
        return self._written

    def drain(self) -> Iterator[bytes]:
        pieces, self._pieces = self._pieces, []
        yield from pieces


def stream_zip(plan: Plan, renderer: Renderer, *, now: datetime) -> Iterator[bytes]:
    """The zip of a plan's renditions, in order, then REPORT.txt when a photo is missing or
    could not be made as asked."""
    pipe = _Pipe()
    report: list[str] = []
    stamp = now.timetuple()[:6]
    with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for item in plan.items:
            pieces = _pieces(item, plan.preset, renderer, report)
            if pieces is None:
                continue
            with archive.open(zipfile.ZipInfo(item.name, date_time=stamp), "w") as entry:
                for piece in pieces:
                    view = memoryview(piece)
                    for start in range(0, len(view), WRITE_SIZE):  # the pipe copies what it holds
                        entry.write(view[start : start + WRITE_SIZE])
                        yield from pipe.drain()
        if report:
            text = f"{plan.title} ({plan.preset.name}): {len(report)} note(s)\n" + "\n".join(report) + "\n"
            archive.writestr(zipfile.ZipInfo(REPORT_NAME, date_time=stamp), text)
    yield from pipe.drain()


def _pieces(
    item: Item, preset: Preset, renderer: Renderer, report: list[str]
) -> list[bytes | memoryview] | None:
    """The item's bytes, or None with a line in the report when it cannot be made."""
    label = f"{item.number:>3}. {item.name} (photo {item.photo_id})"
    if item.source is None:
        report.append(f"{label}: missing: its original is not on the server yet (sync, then download again)")
        return None
    try:
        pieces, note = renderer.pieces(item, preset)
        held = list(pieces)
    except AppError as exc:
        report.append(f"{label}: not made: {exc.message}")
        return None
    except Exception as exc:  # one photo's failure (store, disk) must not end the whole zip
        log.warning("rendition of photo %s failed: %s: %s", item.photo_id, type(exc).__name__, exc)
        report.append(f"{label}: not made: the server could not read or render it")
        return None
    if note:
        report.append(f"{label}: {note}")
    return held


def export_to_dir(plan: Plan, renderer: Renderer, target: Path) -> tuple[int, list[str]]:
    """The renditions written as files in `target` (the CLI); returns how many and the report."""
    target.mkdir(parents=True, exist_ok=True)
    report: list[str] = []
    written = 0
    for item in plan.items:
        pieces = _pieces(item, plan.preset, renderer, report)
        if pieces is None:
            continue
        partial = target / f".{item.name}.part"
        with partial.open("wb") as handle:
            for piece in pieces:
                handle.write(piece)
        partial.replace(target / item.name)
        written += 1
    return written, report
