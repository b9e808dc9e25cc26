"""The object store port: what the rest of the server may ask of any store."""

from __future__ import annotations

import abc
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO


class ObjectNotFound(Exception):
    """The key names no object."""


class InvalidKey(ValueError):
    """The key is not a safe object key (empty, absolute, `..`, odd characters)."""


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    content_type: str


class ObjectStore(abc.ABC):
    """A flat namespace of immutable-once-written objects addressed by key.

    Keys are `/`-separated relative paths built by `store.keys` from validated ids.
    Every adapter validates keys again with `validate_key` before touching anything.
    """

    @abc.abstractmethod
    def put(self, key: str, stream: BinaryIO, *, content_type: str) -> ObjectInfo:
        """Store everything `stream.read()` yields under `key`, atomically.

        Readers see either the previous object or the whole new one, never a part.
        If reading the stream raises, nothing is stored and the exception propagates
        (callers use this to reject a body whose checksum or length is wrong).
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
