"""Where the bytes of unfinished resumable uploads wait: a port and its two adapters.

A `MultipartStore` (S3) receives them as parts of a multipart object while they arrive, so any
API process can take the next PATCH and no file sits whole on the API host (`StoreParts`); the
local store's parts gather in one file per upload under the staging dir (`FileParts`). Either
way the whole file's SHA-256 is checked before it appears at its key.
"""

from __future__ import annotations

import abc
import hashlib
import logging
import os
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from image_assistant.core.uploads import VerifiedReader
from image_assistant.db.models import ResumableUpload
from image_assistant.errors import ChecksumMismatch, Conflict, ObjectNotFound
from image_assistant.store.base import MultipartStore, ObjectStore, Part
from image_assistant.store.keys import STAGING_PREFIX, staged_upload_id, staging_key

log = logging.getLogger("image_assistant.uploads")

# Every part but the last has this size (S3 wants at least 5 MiB); a PATCH body is cut into
# parts of it, and bytes past the last whole part of a PATCH are not kept.
PART_SIZE = 8 * 1024 * 1024
READ_SIZE = 1024 * 1024


class Parts(abc.ABC):
    """Where the bytes of unfinished uploads wait until the whole file has arrived."""

    @abc.abstractmethod
    def begin(self, upload: ResumableUpload) -> None:
        """Make room for a new upload's parts (may set fields of `upload`)."""

    @abc.abstractmethod
    def received(self, upload: ResumableUpload) -> int:
        """Bytes held for good: the offset the client continues from."""

    @abc.abstractmethod
    def append(self, upload: ResumableUpload, *, start: int, chunks: Iterator[bytes]) -> int:
        """Keep `chunks`, the bytes from offset `start`; returns the new offset.

        Sets `upload.received` as bytes are kept, so a caller can record it after a disconnect.
        """

    @abc.abstractmethod
    def publish(self, upload: ResumableUpload, *, key: str, content_type: str) -> None:
        """Store the whole file at `key` if its SHA-256 is the declared one, else raise ChecksumMismatch.

        Either way nothing of the upload is left behind but its row. An upload not yet whole
        raises Conflict (offset_mismatch, with the offset reached) and keeps what it holds.
        """

    @abc.abstractmethod
    def discard(self, upload: ResumableUpload) -> None:
        """Drop whatever is held for the upload."""

    @abc.abstractmethod
    def sweep(self, *, known: set[uuid.UUID], before: datetime) -> int:
        """Drop parts no upload row owns that were last written before `before`; returns how many."""


def append(upload: ResumableUpload, *, offset: int, chunks: Iterator[bytes], parts: Parts) -> int:
    """Add the bytes from `offset`, which must be the offset reached; returns the new offset."""
    current = parts.received(upload)
    if offset != current:
        raise Conflict(
            f"the upload is at offset {current}, not {offset}",
            code="offset_mismatch",
            details={"offset": current},
        )
    upload.updated_at = datetime.now(UTC)
    return parts.append(upload, start=current, chunks=_within_size(chunks, upload.size - current))


def _within_size(chunks: Iterator[bytes], room: int) -> Iterator[bytes]:
    for chunk in chunks:
        room -= len(chunk)
        if room < 0:
            raise Conflict("the part goes past the declared size", code="upload_too_long")
        yield chunk


def parts_for(store: ObjectStore, *, staging_dir: Path, hashes: RunningHashes) -> Parts:
    """Multipart uploads in the store when it has them, else files in the staging dir."""
    if isinstance(store, MultipartStore):
        return StoreParts(store, hashes)
    return FileParts(staging_dir, store)


@dataclass(frozen=True)
class FileParts(Parts):
    """One file per upload under `root`; its size is the offset."""

    root: Path
    store: ObjectStore

    def path(self, upload_id: uuid.UUID) -> Path:
        return self.root / f"{upload_id}.part"

    def begin(self, upload: ResumableUpload) -> None:
        """The file appears with the first bytes."""

    def received(self, upload: ResumableUpload) -> int:
        try:
            return self.path(upload.id).stat().st_size
        except FileNotFoundError:
            return 0

    def append(self, upload: ResumableUpload, *, start: int, chunks: Iterator[bytes]) -> int:
        """Bytes that arrived before a disconnect are kept."""
        self.root.mkdir(parents=True, exist_ok=True)
        current = start
        fd = os.open(self.path(upload.id), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "ab") as handle:
            try:
                for chunk in chunks:
                    handle.write(chunk)
                    current += len(chunk)
            finally:
                handle.flush()
                upload.received = current
        return current

    def publish(self, upload: ResumableUpload, *, key: str, content_type: str) -> None:
        """Stream the file into the store through a reader that checks the SHA-256 at its end."""
        held = self.received(upload)
        if held != upload.size:
            details = {"offset": held}
            raise Conflict(f"the upload is at offset {held}", code="offset_mismatch", details=details)
        try:
            with self.path(upload.id).open("rb") as handle:
                reader: Any = VerifiedReader(
                    iter(lambda: handle.read(READ_SIZE), b""),
                    expected_sha256=upload.sha256,
                    expected_length=upload.size,
                    max_bytes=upload.size,
                )
                self.store.put(key, reader, content_type=content_type)
        finally:
            self.discard(upload)

    def discard(self, upload: ResumableUpload) -> None:
        self.path(upload.id).unlink(missing_ok=True)

    def sweep(self, *, known: set[uuid.UUID], before: datetime) -> int:
        if not self.root.is_dir():
            return 0
        removed = 0
        names = {str(upload_id) for upload_id in known}
        for part in self.root.glob("*.part"):
            if part.stem not in names and part.stat().st_mtime < before.timestamp():
                part.unlink(missing_ok=True)
                removed += 1
        return removed


class StoreParts(Parts):
    """An S3-style multipart object per upload at `uploads/<owner>/<upload id>`.

    The offset is what the store holds in whole parts, read back from it, so it is the
    same for every API process; a part cut short by a disconnect is dropped.
    """

    def __init__(self, store: MultipartStore, hashes: RunningHashes) -> None:
        self.store = store
        self.hashes = hashes

    def begin(self, upload: ResumableUpload) -> None:
        upload.multipart_id = self.store.start_multipart(self._key(upload))

    def received(self, upload: ResumableUpload) -> int:
        return _whole_bytes(self._parts(upload), upload.size)

    def append(self, upload: ResumableUpload, *, start: int, chunks: Iterator[bytes]) -> int:
        current = start
        buffer = bytearray()
        for chunk in chunks:
            buffer += chunk
            while len(buffer) >= PART_SIZE:
                current = self._put(upload, current, bytes(buffer[:PART_SIZE]))
                del buffer[:PART_SIZE]
        if buffer and current + len(buffer) == upload.size:
            current = self._put(upload, current, bytes(buffer))
        return current

    def publish(self, upload: ResumableUpload, *, key: str, content_type: str) -> None:
        """Join the parts at the staging key, check the whole, then copy it to `key`."""
        staged = self._key(upload)
        parts = self._parts(upload)
        whole = _whole_bytes(parts, upload.size)
        if whole != upload.size:
            raise Conflict(
                f"the upload is at offset {whole}", code="offset_mismatch", details={"offset": whole}
            )
        whole_parts = parts[: _count_whole(parts, upload.size)]
        self.store.complete_multipart(staged, self._multipart_id(upload), whole_parts)
        try:
            if self._sha256(upload, staged) != upload.sha256.lower():
                raise ChecksumMismatch("the body's SHA-256 differs from the one declared")
            self.store.copy(staged, key, content_type=content_type)
        finally:
            self.store.delete(staged)

    def discard(self, upload: ResumableUpload) -> None:
        self.hashes.forget(upload.id)
        if upload.multipart_id:
            self.store.abort_multipart(self._key(upload), upload.multipart_id)
        self.store.delete(self._key(upload))

    def sweep(self, *, known: set[uuid.UUID], before: datetime) -> int:
        """Abort multiparts and delete staged objects (left by a crash while publishing) of no row."""
        removed = 0
        for pending in list(self.store.pending_multiparts(STAGING_PREFIX)):
            if staged_upload_id(pending.key) not in known and pending.started_at < before:
                self.store.abort_multipart(pending.key, pending.multipart_id)
                removed += 1
        for listed in list(self.store.objects(STAGING_PREFIX)):
            if staged_upload_id(listed.key) not in known and listed.modified_at < before:
                self.store.delete(listed.key)
                removed += 1
        return removed

    def _key(self, upload: ResumableUpload) -> str:
        return staging_key(upload.user_id, upload.id)

    def _multipart_id(self, upload: ResumableUpload) -> str:
        if not upload.multipart_id:
            self.begin(upload)
        return str(upload.multipart_id)

    def _parts(self, upload: ResumableUpload) -> list[Part]:
        """The stored parts; a multipart gone from the store (aborted, or a crash while
        publishing) starts again empty, so the client re-sends from 0."""
        try:
            return self.store.parts(self._key(upload), self._multipart_id(upload))
        except ObjectNotFound:
            log.warning("the parts of upload %s were gone; it starts again from 0", upload.id)
            self.discard(upload)
            self.begin(upload)
            return []

    def _put(self, upload: ResumableUpload, start: int, data: bytes) -> int:
        number = start // PART_SIZE + 1
        self.store.put_part(self._key(upload), self._multipart_id(upload), number=number, data=data)
        self.hashes.add(upload.id, start=start, data=data)
        upload.received = start + len(data)
        return upload.received

    def _sha256(self, upload: ResumableUpload, staged: str) -> str:
        """This process's running hash when it stored every part in order, else a read-back."""
        known = self.hashes.digest(upload.id, size=upload.size)
        if known is not None:
            return known
        digest = hashlib.sha256()
        for chunk in self.store.open(staged):
            digest.update(chunk)
        return digest.hexdigest()


def _count_whole(parts: list[Part], size: int) -> int:
    """How many leading parts make the contiguous run the offset counts."""
    total = 0
    for expected, part in enumerate(parts, start=1):
        if part.number != expected or (part.size != PART_SIZE and total + part.size != size):
            return expected - 1
        total += part.size
    return len(parts)


def _whole_bytes(parts: list[Part], size: int) -> int:
    return sum(part.size for part in parts[: _count_whole(parts, size)])


class RunningHashes:
    """The SHA-256 so far of uploads whose parts this process stored in order.

    It spares reading a finished upload back from the store. An upload is forgotten when a
    part arrives out of turn (another process took a PATCH); the oldest go past `capacity`.
    """

    def __init__(self, capacity: int = 256) -> None:
        self._capacity = capacity
        self._lock = threading.Lock()
        self._states: OrderedDict[uuid.UUID, tuple[int, Any]] = OrderedDict()

    def add(self, upload_id: uuid.UUID, *, start: int, data: bytes) -> None:
        with self._lock:
            state = self._states.pop(upload_id, None)
        if start == 0:
            state = (0, hashlib.sha256())
        if state is None or state[0] != start:
            return
        state[1].update(data)
        with self._lock:
            self._states[upload_id] = (start + len(data), state[1])
            while len(self._states) > self._capacity:
                self._states.popitem(last=False)

    def digest(self, upload_id: uuid.UUID, *, size: int) -> str | None:
        """The hex digest if it covers exactly `size` bytes; the upload is forgotten either way."""
        with self._lock:
            state = self._states.pop(upload_id, None)
        return state[1].hexdigest() if state is not None and state[0] == size else None

    def forget(self, upload_id: uuid.UUID) -> None:
        with self._lock:
            self._states.pop(upload_id, None)
