"""A stream wrapper that enforces length, size limit and SHA-256 while bytes pass through."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from image_assistant.errors import BadRequest, ChecksumMismatch, PayloadTooLarge


class VerifiedReader:
    """File-like `read()` over byte chunks that raises at EOF if the body is not as declared.

    Raising from `read()` makes every store adapter abandon the write, so a wrong
    body stores nothing.
    """

    def __init__(
        self,
        chunks: Iterator[bytes],
        *,
        expected_sha256: str,
        expected_length: int | None,
        max_bytes: int,
    ) -> None:
        self._chunks = chunks
        self._expected = expected_sha256.lower()
        self._length = expected_length
        self._max = max_bytes
        self._buffer = bytearray()
        self._hash = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        """Exactly `size` bytes (fewer only at the end), as file readers such as boto3 expect."""
        pieces = [bytes(self._buffer)] if self._buffer else []
        have = len(self._buffer)
        self._buffer.clear()
        while size < 0 or have < size:
            chunk = self._next()
            if chunk is None:
                break
            pieces.append(chunk)
            have += len(chunk)
        data = pieces[0] if len(pieces) == 1 else b"".join(pieces)
        if 0 <= size < len(data):
            self._buffer.extend(memoryview(data)[size:])
            data = data[:size]
        return data

    def chunks(self) -> Iterator[bytes]:
        """The body piece by piece, as it arrives (no joining): for writers that take pieces."""
        if self._buffer:
            yield bytes(self._buffer)
            self._buffer.clear()
        while (chunk := self._next()) is not None:
            yield chunk

    def _next(self) -> bytes | None:
        """The next chunk, counted and hashed; None (after the final checks) at the end."""
        chunk = next(self._chunks, None)
        if chunk is None:
            self._finish()
            return None
        self._take(chunk)
        return chunk

    def _take(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self._max:
            raise PayloadTooLarge(f"upload is larger than the limit of {self._max} bytes")
        if self._length is not None and self.size > self._length:
            raise BadRequest("body is longer than Content-Length", code="length_mismatch")
        self._hash.update(chunk)

    def _finish(self) -> None:
        if self._length is not None and self.size != self._length:
            raise BadRequest("body is shorter than Content-Length", code="length_mismatch")
        if self._hash.hexdigest() != self._expected:
            raise ChecksumMismatch("the body's SHA-256 differs from the one declared")

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()
