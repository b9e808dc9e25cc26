"""The object store as a directory on this machine, with HMAC-signed download URLs."""

from __future__ import annotations

import hashlib
import hmac
import mimetypes
import os
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlencode

from image_assistant.errors import Forbidden, InvalidKey, ObjectNotFound, Unavailable
from image_assistant.store.base import ObjectInfo, ObjectStore, Readable
from image_assistant.store.keys import validate_key

CHUNK_SIZE = 1024 * 1024
_TMP_DIR_NAME = ".tmp"  # never a valid key segment: keys start with a letter or digit
_EXPIRES = re.compile(r"[0-9]{1,15}")
_FOLDERS_KEPT = 4096  # resolved folders remembered (a store has 16 per owner and prefix)


class LocalStore(ObjectStore):
    """Objects are files under `root`; writes go through `root/.tmp` and `os.replace`."""

    def __init__(self, root: Path, *, signing_key: bytes, url_prefix: str = "/api/objects") -> None:
        if not signing_key:
            raise ValueError("LocalStore needs a non-empty signing key")
        self._root = Path(root).resolve()
        self._folders: dict[str, Path] = {"": self._root}
        self._signing_key = signing_key
        self._url_prefix = url_prefix.rstrip("/")

    def put(self, key: str, stream: Readable, *, content_type: str) -> ObjectInfo:
        """Write `stream` to a temp file, fsync it, then rename it over `key` atomically.

        `content_type` is not stored: `head` derives it from the key's extension.
        """
        target = self._path(key)
        tmp_dir = self._root / _TMP_DIR_NAME
        tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=tmp_dir, prefix="put-")
        tmp_path = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as tmp_file:
                size = _copy_stream(stream, tmp_file)
                tmp_file.flush()
                os.fsync(tmp_file.fileno())
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp_path, target)
        except BaseException:
            tmp_path.unlink(missing_ok=True)
            raise
        _fsync_directory(target.parent)
        return ObjectInfo(key=key, size=size, content_type=_content_type_of(key))

    def open(self, key: str) -> Iterator[bytes]:
        """Open the file now (so absence raises here) and yield it in 1 MiB chunks."""
        path = self._path(key)
        try:
            file = path.open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectNotFound(key) from None
        return _read_chunks(file)

    def head(self, key: str) -> ObjectInfo:
        """Size from the file system, content type from the key's extension."""
        path = self._path(key)
        if not path.is_file():
            raise ObjectNotFound(key)
        return ObjectInfo(key=key, size=path.stat().st_size, content_type=_content_type_of(key))

    def delete(self, key: str) -> None:
        """Remove the file if it is there."""
        self._path(key).unlink(missing_ok=True)

    def presign_get(self, key: str, *, expires_in: int, filename: str | None = None) -> str:
        """A relative URL under `url_prefix`, valid until now + `expires_in` seconds."""
        validate_key(key)
        expires = int(time.time()) + expires_in
        query = {"expires": str(expires), "signature": self._signature(key, str(expires), filename)}
        if filename is not None:
            query["filename"] = filename
        return f"{self._url_prefix}/{key}?{urlencode(query)}"

    def verify_presigned(self, key: str, expires: str, signature: str, filename: str | None) -> None:
        """Raise Forbidden unless `presign_get` signed these parameters and they are fresh."""
        validate_key(key)
        if not _EXPIRES.fullmatch(expires):
            raise Forbidden("download link is malformed", code="signature_invalid")
        expected = self._signature(key, expires, filename)
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            raise Forbidden("download link signature is invalid", code="signature_invalid")
        if time.time() > int(expires):
            raise Forbidden("download link has expired", code="url_expired")

    def sweep_temporary(self, *, older_than: float) -> int:
        """Temp files of `put`s that never finished: a live write keeps touching its file."""
        cutoff = time.time() - older_than
        removed = 0
        for path in (self._root / _TMP_DIR_NAME).glob("put-*"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed

    def path_of(self, key: str) -> Path:
        """The file holding `key`, for serving it directly; raise ObjectNotFound if absent."""
        path = self._path(key)
        if not path.is_file():
            raise ObjectNotFound(key)
        return path

    def check(self) -> None:
        """Raise Unavailable unless the root exists and a file can be written in it."""
        if not self._root.is_dir():
            raise Unavailable(f"object store directory {self._root} does not exist")
        try:
            with tempfile.TemporaryFile(dir=self._root, prefix=".check-") as probe:
                probe.write(b"ok")
        except OSError as exc:
            raise Unavailable(f"object store directory {self._root} is not writable: {exc.strerror}") from exc

    def list_keys(self, prefix: str, *, start_after: str = "") -> Iterator[str]:
        """Walk the folder `prefix` names (its temp folder and dot files are never objects)."""
        start = self._path(prefix.rstrip("/")) if prefix else self._root
        yield from self._walk(start, start_after)

    def _walk(self, directory: Path, start_after: str) -> Iterator[str]:
        """The keys under `directory` after `start_after`, in key order: a folder sorts as its
        name and a `/`, which every key inside it has there; a folder wholly before
        `start_after` is not entered."""
        try:
            entries = [e for e in os.scandir(directory) if not e.name.startswith(".")]
        except (FileNotFoundError, NotADirectoryError):
            return
        relative = directory.relative_to(self._root).as_posix()
        folder = "" if relative == "." else f"{relative}/"
        named = sorted((e.name + ("/" if e.is_dir(follow_symlinks=False) else ""), e) for e in entries)
        for name, entry in named:
            key = folder + name
            if not name.endswith("/"):
                if key > start_after:
                    yield key
            elif key > start_after or start_after.startswith(key):
                yield from self._walk(Path(entry.path), start_after)

    def _path(self, key: str) -> Path:
        """The file path of a valid key, refused if it leads out of the root through a link.

        Its folder is resolved once and remembered while it exists (a realpath per object cost
        an lstat per segment of the whole path); the file itself is checked on each call."""
        validate_key(key)
        folder, _, name = key.rpartition("/")
        path = self._folder(folder) / name
        if path.is_symlink() and not path.resolve().is_relative_to(self._root):
            raise InvalidKey("object key resolves outside the store")
        return path

    def _folder(self, relative: str) -> Path:
        known = self._folders.get(relative)
        if known is not None:
            return known
        resolved = (self._root / relative).resolve()
        if not resolved.is_relative_to(self._root):
            raise InvalidKey("object key resolves outside the store")
        if resolved.is_dir():  # a folder not made yet is resolved again until it is
            if len(self._folders) >= _FOLDERS_KEPT:
                self._folders.clear()
            self._folders[relative] = resolved
        return resolved

    def _signature(self, key: str, expires: str, filename: str | None) -> str:
        message = f"{key}\n{expires}\n{filename or ''}".encode()
        return hmac.new(self._signing_key, message, hashlib.sha256).hexdigest()


def _copy_stream(stream: Readable, destination: BinaryIO) -> int:
    """Copy `stream` into `destination` chunk by chunk; return the number of bytes."""
    pieces = getattr(stream, "chunks", None)
    chunks = pieces() if callable(pieces) else iter(lambda: stream.read(CHUNK_SIZE), b"")
    size = 0
    for chunk in chunks:
        destination.write(chunk)
        size += len(chunk)
    return size


def _read_chunks(file: BinaryIO) -> Iterator[bytes]:
    with file:
        while chunk := file.read(CHUNK_SIZE):
            yield chunk


def _fsync_directory(directory: Path) -> None:
    """Make a rename inside `directory` durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _content_type_of(key: str) -> str:
    return mimetypes.guess_type(key)[0] or "application/octet-stream"
