"""The object store port: what the rest of the server may ask of any store."""

from __future__ import annotations

import abc
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from image_assistant.errors import InvalidKey, ObjectNotFound

__all__ = ["InvalidKey", "ObjectNotFound", "ObjectInfo", "ObjectStore", "MultipartStore", "Readable"]


class Readable(Protocol):
    """What `put` reads from: a request body, a file, a checking wrapper."""

    def read(self, size: int = -1, /) -> bytes: ...


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    content_type: str


# A store's temp file untouched this long belongs to a killed write (swept at start and each minute).
TEMP_FILES_KEPT_SECONDS = 3600.0


class ObjectStore(abc.ABC):
    """A flat namespace of immutable-once-written objects addressed by key.

    Keys are `/`-separated relative paths built by `store.keys` from validated ids.
    Every adapter validates keys again with `validate_key` before touching anything.
    """

    @abc.abstractmethod
    def put(self, key: str, stream: Readable, *, content_type: str) -> ObjectInfo:
        """Store everything `stream.read()` yields under `key`, atomically.

        Readers see either the previous object or the whole new one, never a part.
        If reading the stream raises, nothing is stored and the exception propagates
        (callers use this to reject a body whose checksum or length is wrong).
        A stream may also offer `chunks()`, its bytes as an iterator of pieces; adapters
        that write pieces as they come use it rather than `read()`, to skip joining them.
        """

    @abc.abstractmethod
    def open(self, key: str) -> Iterator[bytes]:
        """Yield the object's bytes in chunks; raise ObjectNotFound first if absent."""

    @abc.abstractmethod
    def head(self, key: str) -> ObjectInfo:
        """Size and content type of the object; raise ObjectNotFound if absent."""

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object; removing an absent object is not an error."""

    @abc.abstractmethod
    def presign_get(self, key: str, *, expires_in: int, filename: str | None = None) -> str:
        """A URL that lets anyone holding it GET the object for `expires_in` seconds.

        S3 gives an absolute SigV4 URL; the local store gives a path on this API
        (`/api/objects/...`) signed with HMAC. `filename` sets Content-Disposition.
        """

    @abc.abstractmethod
    def check(self) -> None:
        """Raise if the store cannot be reached or written (used by /health)."""

    def sweep_temporary(self, *, older_than: float) -> int:
        """Delete the adapter's own temporary files untouched for `older_than` seconds (those of
        writes a killed process left); returns how many. Stores without any have nothing to do."""
        return 0

    @abc.abstractmethod
    def list_keys(self, prefix: str, *, start_after: str = "") -> Iterator[str]:
        """Every object key starting with `prefix` (a `/`-ended folder, or "" for all) and, when
        `start_after` is given, coming after it; in key order (so a long walk can resume)."""


@dataclass(frozen=True)
class Part:
    """One part of an unfinished multipart object: its number (from 1), size and the store's tag."""

    number: int
    size: int
    tag: str


@dataclass(frozen=True)
class PendingMultipart:
    key: str
    multipart_id: str
    started_at: datetime


@dataclass(frozen=True)
class ListedObject:
    key: str
    modified_at: datetime


class MultipartStore(ObjectStore):
    """A store that builds an object from parts sent over time, by any process (S3 multipart).

    Parts live in the store itself, so a caller needs only the key and the multipart id
    to add the next part, and nothing of an unfinished object is readable at its key.
    """

    MIN_PART_SIZE = 5 * 1024 * 1024

    @abc.abstractmethod
    def start_multipart(self, key: str) -> str:
        """Begin an object at `key` to be sent in parts; returns the multipart id."""

    @abc.abstractmethod
    def put_part(self, key: str, multipart_id: str, *, number: int, data: bytes) -> None:
        """Store part `number` (from 1); every part but the last must hold MIN_PART_SIZE bytes.

        Sending a number again replaces that part.
        """

    @abc.abstractmethod
    def parts(self, key: str, multipart_id: str) -> list[Part]:
        """The parts stored so far, by number; raise ObjectNotFound if the multipart is gone."""

    @abc.abstractmethod
    def complete_multipart(self, key: str, multipart_id: str, parts: list[Part]) -> None:
        """Join `parts` into the object at `key`; the multipart id is used up."""

    @abc.abstractmethod
    def abort_multipart(self, key: str, multipart_id: str) -> None:
        """Drop the parts; aborting a finished or unknown multipart is not an error."""

    @abc.abstractmethod
    def pending_multiparts(self, prefix: str) -> Iterator[PendingMultipart]:
        """Multiparts begun and neither completed nor aborted, under `prefix`."""

    @abc.abstractmethod
    def objects(self, prefix: str) -> Iterator[ListedObject]:
        """Objects under `prefix`, with the time each was last written."""

    @abc.abstractmethod
    def copy(self, source: str, target: str, *, content_type: str) -> ObjectInfo:
        """Copy an object within the store (any size), atomically at `target`."""
