"""One contract suite for where resumable uploads wait: files beside the local store, S3 multiparts.

`FileParts` (a staging dir, then the local store) and `StoreParts` (multipart objects in the
real S3 server) are driven as the API drives them, through `core.parts.append`; uploads
are rows built in memory, no database. Files are one whole part (8 MiB) and a short last one.
"""

from __future__ import annotations

import hashlib
import io
import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from image_assistant.core.parts import PART_SIZE, FileParts, Parts, RunningHashes, StoreParts, append
from image_assistant.db.models import ResumableUpload
from image_assistant.errors import ChecksumMismatch, Conflict
from image_assistant.store.base import ObjectNotFound, ObjectStore
from image_assistant.store.keys import STAGING_PREFIX, photo_file_key, staged_upload_id
from image_assistant.store.local import LocalStore
from image_assistant.store.s3 import S3Store
from tests.helpers.s3 import S3Server, make_s3_store, remove_bucket

MiB = 1024 * 1024
SIZE = PART_SIZE + 3 * 1024  # a whole part, then a short last one

Staged = Callable[[ResumableUpload], list[str]]


@pytest.fixture(scope="module")
def data() -> bytes:
    return os.urandom(SIZE)


def new_upload(data: bytes, *, sha256: str | None = None) -> ResumableUpload:
    """An upload row as `open_upload` makes one, kept in memory."""
    return ResumableUpload(
        id=uuid.uuid4(),
        user_id=uuid.uuid4(),
        device_id=uuid.uuid4(),
        photos_uuid=str(uuid.uuid4()).upper(),
        kind="original",
        size=len(data),
        sha256=sha256 or hashlib.sha256(data).hexdigest(),
        received=0,
    )


def key_of(upload: ResumableUpload) -> str:
    return photo_file_key("originals", upload.user_id, upload.photos_uuid, "clip.mov")


def pieces(data: bytes, start: int = 0, end: int | None = None, size: int = MiB) -> Iterator[bytes]:
    """data[start:end] in chunks, as a request body arrives."""
    end = len(data) if end is None else end
    for at in range(start, end, size):
        yield data[at : min(at + size, end)]


def broken_after(data: bytes, sent: int) -> Iterator[bytes]:
    """The first `sent` bytes, then the connection drops."""
    yield from pieces(data, 0, sent)
    raise ConnectionResetError("the client went away")


def read_all(store: ObjectStore, key: str) -> bytes:
    return b"".join(store.open(key))


class PartsContract:
    """What every Parts adapter must do; subclasses provide `parts`, its `store`, and `staged`.

    `staged(upload)` names what the adapter holds for the upload, looked at behind its back.
    """

    def started(self, parts: Parts, data: bytes, **overrides: str) -> ResumableUpload:
        upload = new_upload(data, **overrides)
        parts.begin(upload)
        return upload

    def test_a_new_upload_holds_nothing(self, parts: Parts, data: bytes) -> None:
        upload = self.started(parts, data)
        assert parts.received(upload) == 0

    def test_the_offset_is_what_is_held_after_each_append(self, parts: Parts, data: bytes) -> None:
        upload = self.started(parts, data)
        assert append(upload, offset=0, chunks=pieces(data, 0, PART_SIZE), parts=parts) == PART_SIZE
        assert parts.received(upload) == upload.received == PART_SIZE
        rest = pieces(data, PART_SIZE)
        assert append(upload, offset=PART_SIZE, chunks=rest, parts=parts) == SIZE
        assert parts.received(upload) == upload.received == SIZE

    @pytest.mark.parametrize(
        "wrong", [0, PART_SIZE - 1, PART_SIZE + 1, SIZE], ids=["start", "a_byte_short", "a_byte_past", "end"]
    )
    def test_appending_from_another_offset_than_the_one_held_is_a_conflict_that_changes_nothing(
        self, parts: Parts, data: bytes, wrong: int
    ) -> None:
        upload = self.started(parts, data)
        append(upload, offset=0, chunks=pieces(data, 0, PART_SIZE), parts=parts)
        with pytest.raises(Conflict) as refused:
            append(upload, offset=wrong, chunks=pieces(data, wrong), parts=parts)
        assert refused.value.code == "offset_mismatch"
        assert refused.value.details == {"offset": PART_SIZE}
        assert parts.received(upload) == PART_SIZE

    def test_after_a_dropped_connection_the_upload_goes_on_from_what_is_held(
        self, parts: Parts, store: ObjectStore, data: bytes
    ) -> None:
        upload = self.started(parts, data)
        sent = PART_SIZE + MiB
        with pytest.raises(ConnectionResetError):
            append(upload, offset=0, chunks=broken_after(data, sent), parts=parts)
        held = parts.received(upload)
        assert upload.received == held and 0 < held <= sent
        assert append(upload, offset=held, chunks=pieces(data, held), parts=parts) == SIZE
        parts.publish(upload, key=key_of(upload), content_type="video/quicktime")
        assert read_all(store, key_of(upload)) == data

    def test_publish_with_the_right_sha256_stores_the_whole_file_at_the_key_and_leaves_nothing_staged(
        self, parts: Parts, store: ObjectStore, staged: Staged, data: bytes
    ) -> None:
        upload = self.started(parts, data)
        append(upload, offset=0, chunks=pieces(data), parts=parts)
        assert staged(upload)
        parts.publish(upload, key=key_of(upload), content_type="video/quicktime")
        assert read_all(store, key_of(upload)) == data
        head = store.head(key_of(upload))
        assert head.size == SIZE and head.content_type == "video/quicktime"
        assert staged(upload) == []

    def test_publish_with_a_wrong_sha256_raises_checksum_mismatch_and_stores_nothing(
        self, parts: Parts, store: ObjectStore, staged: Staged, data: bytes
    ) -> None:
        upload = self.started(parts, data, sha256="0" * 64)
        append(upload, offset=0, chunks=pieces(data), parts=parts)
        with pytest.raises(ChecksumMismatch):
            parts.publish(upload, key=key_of(upload), content_type="video/quicktime")
        with pytest.raises(ObjectNotFound):
            store.head(key_of(upload))
        assert staged(upload) == []

    def test_a_wrong_sha256_leaves_what_was_at_the_key_before(
        self, parts: Parts, store: ObjectStore, data: bytes
    ) -> None:
        upload = self.started(parts, data, sha256="f" * 64)
        store.put(key_of(upload), io.BytesIO(b"the earlier original"), content_type="video/quicktime")
        append(upload, offset=0, chunks=pieces(data), parts=parts)
        with pytest.raises(ChecksumMismatch):
            parts.publish(upload, key=key_of(upload), content_type="video/quicktime")
        assert read_all(store, key_of(upload)) == b"the earlier original"

    def test_discard_drops_what_is_held(self, parts: Parts, staged: Staged, data: bytes) -> None:
        upload = self.started(parts, data)
        append(upload, offset=0, chunks=pieces(data, 0, PART_SIZE), parts=parts)
        assert staged(upload)
        parts.discard(upload)
        assert staged(upload) == []

    def test_sweep_removes_old_parts_no_upload_owns_and_keeps_known_and_recent_ones(
        self, parts: Parts, staged: Staged, data: bytes
    ) -> None:
        owned, orphan = self.started(parts, data), self.started(parts, data)
        for upload in (owned, orphan):
            append(upload, offset=0, chunks=pieces(data, 0, PART_SIZE), parts=parts)
        now = datetime.now(UTC)

        assert parts.sweep(known={owned.id}, before=now - timedelta(hours=1)) == 0  # the orphan is recent
        assert staged(orphan) and staged(owned)

        assert parts.sweep(known={owned.id}, before=now + timedelta(minutes=1)) == 1
        assert staged(orphan) == []
        assert staged(owned) and parts.received(owned) == PART_SIZE


class TestFileParts(PartsContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> LocalStore:
        root = tmp_path / "objects"
        root.mkdir()
        return LocalStore(root, signing_key=b"test-signing-key")

    @pytest.fixture
    def parts(self, tmp_path: Path, store: LocalStore) -> FileParts:
        return FileParts(tmp_path / "uploads", store)

    @pytest.fixture
    def staged(self, parts: FileParts) -> Staged:
        return lambda upload: sorted(p.name for p in parts.root.glob(f"{upload.id}*"))


class TestStoreParts(PartsContract):
    @pytest.fixture
    def store(self, s3_server: S3Server) -> Iterator[S3Store]:
        """A bucket of its own for each test: `sweep` looks at every staged upload in it."""
        bucket = f"ia-parts-{uuid.uuid4().hex[:16]}"
        made = make_s3_store(s3_server, bucket)
        made.ensure_bucket()
        yield made
        remove_bucket(s3_server, bucket)

    @pytest.fixture
    def parts(self, store: S3Store) -> StoreParts:
        return StoreParts(store, RunningHashes())

    @pytest.fixture
    def staged(self, store: S3Store) -> Staged:
        def staged(upload: ResumableUpload) -> list[str]:
            multiparts = [f"multipart {m.key}" for m in store.pending_multiparts(STAGING_PREFIX)]
            objects = [f"object {o.key}" for o in store.objects(STAGING_PREFIX)]
            return sorted(
                name for name in multiparts + objects if staged_upload_id(name.split()[1]) == upload.id
            )

        return staged
