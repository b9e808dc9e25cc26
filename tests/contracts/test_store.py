"""One contract suite for every object store adapter, plus each adapter's own promises."""

from __future__ import annotations

import hashlib
import io
import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from image_assistant.errors import Forbidden, Unavailable
from image_assistant.store.base import InvalidKey, ObjectNotFound, ObjectStore
from image_assistant.store.local import LocalStore
from image_assistant.store.s3 import S3Store
from tests.helpers.s3 import S3Server, make_s3_store, raw_client

MiB = 1024 * 1024
UNSAFE_KEYS = ["../escape.jpg", "a/../b.jpg", "/absolute.jpg", "a//b.jpg", "a\\b.jpg", "..", "", "a/b.jpg\n"]


class StreamBroken(Exception):
    """Raised by FailingStream, as a checksum check would raise mid-upload."""


class FailingStream:
    """A non-seekable stream that yields `good_bytes` bytes, then raises StreamBroken."""

    def __init__(self, good_bytes: int, before_raising: Callable[[], None] | None = None) -> None:
        self._remaining = good_bytes
        self._before_raising = before_raising

    def read(self, size: int = -1) -> bytes:
        if self._remaining == 0:
            if self._before_raising is not None:
                self._before_raising()
            raise StreamBroken("stream broke midway")
        size = self._remaining if size < 0 else min(size, self._remaining)
        self._remaining -= size
        return b"x" * size


class NonSeekableStream:
    """Only `read`, like a request body arriving from a socket."""

    def __init__(self, data: bytes) -> None:
        self._buffer = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        return self._buffer.read(size)


def new_key(name: str = "photo.jpg") -> str:
    return f"tests/{uuid.uuid4().hex}/{name}"


def read_all(store: ObjectStore, key: str) -> bytes:
    return b"".join(store.open(key))


def sha256_of_chunks(chunks: Iterator[bytes]) -> str:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


UNSAFE_KEY_OPERATIONS: dict[str, Callable[[ObjectStore, str], Any]] = {
    "put": lambda store, key: store.put(key, io.BytesIO(b"x"), content_type="image/jpeg"),
    "open": lambda store, key: store.open(key),
    "head": lambda store, key: store.head(key),
    "delete": lambda store, key: store.delete(key),
    "presign_get": lambda store, key: store.presign_get(key, expires_in=60),
}


class StoreContract:
    """What every ObjectStore adapter must do; subclasses provide the `store` fixture."""

    def test_put_then_open_round_trips_bytes_and_head_gives_size(self, store: ObjectStore) -> None:
        key = new_key()
        data = os.urandom(3 * MiB + 17)
        info = store.put(key, io.BytesIO(data), content_type="image/jpeg")
        assert info.key == key
        assert info.size == len(data)
        assert read_all(store, key) == data
        head = store.head(key)
        assert head.size == len(data)
        assert head.content_type == "image/jpeg"

    def test_open_yields_chunks_of_at_most_one_mib(self, store: ObjectStore) -> None:
        key = new_key()
        store.put(key, io.BytesIO(b"a" * (2 * MiB + 1)), content_type="image/jpeg")
        sizes = [len(chunk) for chunk in store.open(key)]
        assert sum(sizes) == 2 * MiB + 1
        assert max(sizes) <= MiB

    def test_an_empty_stream_stores_an_empty_object(self, store: ObjectStore) -> None:
        key = new_key()
        assert store.put(key, io.BytesIO(b""), content_type="image/jpeg").size == 0
        assert store.head(key).size == 0
        assert read_all(store, key) == b""

    def test_overwriting_replaces_the_whole_object(self, store: ObjectStore) -> None:
        key = new_key()
        store.put(key, io.BytesIO(b"A" * (3 * MiB)), content_type="image/jpeg")
        store.put(key, io.BytesIO(b"short"), content_type="image/jpeg")
        assert read_all(store, key) == b"short"
        assert store.head(key).size == 5

    def test_a_stream_that_raises_midway_stores_nothing(self, store: ObjectStore) -> None:
        key = new_key()
        with pytest.raises(StreamBroken):
            store.put(key, FailingStream(3 * MiB), content_type="image/jpeg")
        with pytest.raises(ObjectNotFound):
            store.head(key)

    def test_a_stream_that_raises_midway_leaves_the_previous_object_intact(self, store: ObjectStore) -> None:
        key = new_key()
        store.put(key, io.BytesIO(b"previous"), content_type="image/jpeg")
        with pytest.raises(StreamBroken):
            store.put(key, FailingStream(3 * MiB), content_type="image/jpeg")
        assert read_all(store, key) == b"previous"

    def test_a_large_stream_that_raises_after_the_first_part_stores_nothing(self, store: ObjectStore) -> None:
        key = new_key("large.bin")
        store.put(key, io.BytesIO(b"previous"), content_type="application/octet-stream")
        with pytest.raises(StreamBroken):
            store.put(key, FailingStream(20 * MiB), content_type="application/octet-stream")
        assert read_all(store, key) == b"previous"

    def test_open_of_an_absent_key_raises_object_not_found_before_iterating(self, store: ObjectStore) -> None:
        with pytest.raises(ObjectNotFound):
            store.open(new_key())

    def test_head_of_an_absent_key_raises_object_not_found(self, store: ObjectStore) -> None:
        with pytest.raises(ObjectNotFound):
            store.head(new_key())

    def test_delete_is_idempotent(self, store: ObjectStore) -> None:
        key = new_key()
        store.put(key, io.BytesIO(b"bytes"), content_type="image/jpeg")
        store.delete(key)
        store.delete(key)
        store.delete(new_key())
        with pytest.raises(ObjectNotFound):
            store.head(key)

    @pytest.mark.parametrize("operation", sorted(UNSAFE_KEY_OPERATIONS))
    @pytest.mark.parametrize("key", UNSAFE_KEYS)
    def test_unsafe_keys_are_refused_by_every_method(
        self, store: ObjectStore, operation: str, key: str
    ) -> None:
        with pytest.raises(InvalidKey):
            UNSAFE_KEY_OPERATIONS[operation](store, key)

    def test_a_forty_mib_object_round_trips_byte_identical(self, store: ObjectStore) -> None:
        key = new_key("video.mov")
        data = os.urandom(40 * MiB)
        info = store.put(key, NonSeekableStream(data), content_type="video/quicktime")
        assert info.size == len(data)
        assert store.head(key).size == len(data)
        assert sha256_of_chunks(store.open(key)) == hashlib.sha256(data).hexdigest()

    def test_check_passes_on_a_working_store(self, store: ObjectStore) -> None:
        store.check()

    def test_list_keys_gives_every_object_under_a_prefix_and_no_other(self, store: ObjectStore) -> None:
        folder = f"tests/{uuid.uuid4().hex}"
        keys = {f"{folder}/a.jpg", f"{folder}/sub/b.jpg.json", f"{folder}/sub/deeper/c.mov"}
        for key in [*keys, f"{folder}-other/d.jpg"]:
            store.put(key, io.BytesIO(b"x"), content_type="image/jpeg")
        assert set(store.list_keys(f"{folder}/")) == keys
        assert list(store.list_keys(f"tests/{uuid.uuid4().hex}/")) == []

    def test_list_keys_gives_keys_in_order_and_resumes_after_one(self, store: ObjectStore) -> None:
        folder = f"tests/{uuid.uuid4().hex}"
        names = ["c.jpg", "ab-c", "ab/x", "ab/y/z", "ab0", "b/1", "b0"]  # '-' < '/' < '0'
        for name in names:
            store.put(f"{folder}/{name}", io.BytesIO(b"x"), content_type="image/jpeg")
        keys = [f"{folder}/{name}" for name in sorted(names)]
        assert list(store.list_keys(f"{folder}/")) == keys
        for at in range(len(keys)):
            assert list(store.list_keys(f"{folder}/", start_after=keys[at])) == keys[at + 1 :]
        assert list(store.list_keys(f"{folder}/", start_after=f"{folder}/ab/")) == keys[1:]


class TestLocalStore(StoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> LocalStore:
        root = tmp_path / "objects"
        root.mkdir()
        return LocalStore(root, signing_key=b"test-signing-key")

    def test_presigned_url_is_relative_and_passes_verification(self, store: LocalStore) -> None:
        key = new_key()
        url = store.presign_get(key, expires_in=60, filename="IMG 0001 été.jpg")
        assert url.startswith(f"/api/objects/{key}?")
        store.verify_presigned(*url_parameters(url))

    def test_presigned_url_without_filename_passes_verification(self, store: LocalStore) -> None:
        url = store.presign_get(new_key(), expires_in=60)
        key, expires, signature, filename = url_parameters(url)
        assert filename is None
        store.verify_presigned(key, expires, signature, filename)

    def test_an_expired_presigned_url_is_refused_as_expired(self, store: LocalStore) -> None:
        url = store.presign_get(new_key(), expires_in=-1)
        with pytest.raises(Forbidden) as refused:
            store.verify_presigned(*url_parameters(url))
        assert refused.value.code == "url_expired"

    @pytest.mark.parametrize(
        "tamper",
        [
            "signature_changed",
            "other_key",
            "other_filename",
            "filename_dropped",
            "expires_extended",
            "expires_malformed",
            "signature_not_ascii",
        ],
    )
    def test_a_tampered_presigned_url_is_refused_as_signature_invalid(
        self, store: LocalStore, tamper: str
    ) -> None:
        url = store.presign_get(new_key(), expires_in=60, filename="photo.jpg")
        key, expires, signature, filename = url_parameters(url)
        if tamper == "signature_changed":
            signature = flip_one_hex_character(signature)
        elif tamper == "other_key":
            key = new_key()
        elif tamper == "other_filename":
            filename = "other.jpg"
        elif tamper == "filename_dropped":
            filename = None
        elif tamper == "expires_extended":
            expires = str(int(expires) + 3600)
        elif tamper == "expires_malformed":
            expires = "soon"
        elif tamper == "signature_not_ascii":
            signature = "é" * len(signature)
        with pytest.raises(Forbidden) as refused:
            store.verify_presigned(key, expires, signature, filename)
        assert refused.value.code == "signature_invalid"

    @pytest.mark.parametrize("key", UNSAFE_KEYS)
    def test_unsafe_keys_are_refused_by_path_of_and_verify_presigned(
        self, store: LocalStore, key: str
    ) -> None:
        with pytest.raises(InvalidKey):
            store.path_of(key)
        with pytest.raises(InvalidKey):
            store.verify_presigned(key, str(int(time.time()) + 60), "00", None)

    def test_path_of_gives_the_file_holding_the_object(self, store: LocalStore) -> None:
        key = new_key()
        store.put(key, io.BytesIO(b"bytes"), content_type="image/jpeg")
        assert store.path_of(key).read_bytes() == b"bytes"
        with pytest.raises(ObjectNotFound):
            store.path_of(new_key())

    def test_a_symlink_inside_the_root_pointing_outside_is_refused(
        self, store: LocalStore, tmp_path: Path
    ) -> None:
        outside = tmp_path / "outside"
        outside.mkdir()
        (outside / "secret.jpg").write_bytes(b"secret")
        root = tmp_path / "objects"
        (root / "linked-dir").symlink_to(outside, target_is_directory=True)
        (root / "linked-file.jpg").symlink_to(outside / "secret.jpg")
        for key in ["linked-dir/secret.jpg", "linked-file.jpg"]:
            with pytest.raises(InvalidKey):
                store.path_of(key)
            with pytest.raises(InvalidKey):
                store.open(key)
            with pytest.raises(InvalidKey):
                store.put(key, io.BytesIO(b"overwrite"), content_type="image/jpeg")
        assert (outside / "secret.jpg").read_bytes() == b"secret"

    def test_a_failed_put_leaves_no_temporary_file(self, store: LocalStore, tmp_path: Path) -> None:
        with pytest.raises(StreamBroken):
            store.put(new_key(), FailingStream(2 * MiB), content_type="image/jpeg")
        assert list((tmp_path / "objects" / ".tmp").iterdir()) == []

    def test_check_raises_unavailable_when_the_root_is_missing(self, tmp_path: Path) -> None:
        store = LocalStore(tmp_path / "missing", signing_key=b"k")
        with pytest.raises(Unavailable):
            store.check()


class TestS3Store(StoreContract):
    @pytest.fixture
    def store(self, s3_server: S3Server, bucket: str) -> S3Store:
        return make_s3_store(s3_server, bucket)

    @pytest.fixture
    def s3_client(self, s3_server: S3Server) -> Any:
        return raw_client(s3_server)

    def test_ensure_bucket_is_idempotent(self, store: S3Store) -> None:
        store.ensure_bucket()
        store.ensure_bucket()

    def test_a_large_stream_failing_after_the_first_part_leaves_no_multipart_upload(
        self, store: S3Store, s3_client: Any, bucket: str
    ) -> None:
        key = new_key("large.bin")

        def wait_until_a_part_is_stored() -> None:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if stored_parts(s3_client, bucket, key):
                    return
                time.sleep(0.1)
            raise AssertionError("no part of the multipart upload reached the server")

        with pytest.raises(StreamBroken):
            store.put(
                key,
                FailingStream(17 * MiB, before_raising=wait_until_a_part_is_stored),
                content_type="application/octet-stream",
            )
        assert s3_client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
        with pytest.raises(ObjectNotFound):
            store.head(key)

    def test_a_presigned_url_gives_the_bytes(self, store: S3Store) -> None:
        key = new_key()
        store.put(key, io.BytesIO(b"presigned bytes"), content_type="image/jpeg")
        response = httpx.get(store.presign_get(key, expires_in=60))
        assert response.status_code == 200
        assert response.content == b"presigned bytes"

    def test_an_expired_presigned_url_is_refused(self, store: S3Store) -> None:
        key = new_key()
        store.put(key, io.BytesIO(b"bytes"), content_type="image/jpeg")
        url = store.presign_get(key, expires_in=1)
        time.sleep(3)
        assert httpx.get(url).status_code == 403

    def test_a_tampered_presigned_url_is_refused(self, store: S3Store) -> None:
        key = new_key()
        store.put(key, io.BytesIO(b"bytes"), content_type="image/jpeg")
        url = store.presign_get(key, expires_in=60)
        signature = parse_qs(urlsplit(url).query)["X-Amz-Signature"][0]
        tampered = url.replace(
            f"X-Amz-Signature={signature}",
            f"X-Amz-Signature={flip_one_hex_character(signature)}",
        )
        assert tampered != url
        assert httpx.get(tampered).status_code == 403

    @pytest.mark.parametrize(
        ("filename", "expected"),
        [
            ("IMG_0001.HEIC", 'attachment; filename="IMG_0001.HEIC"'),
            (
                'été "1".jpg',
                "attachment; filename=\"_t_ _1_.jpg\"; filename*=UTF-8''%C3%A9t%C3%A9%20%221%22.jpg",
            ),
        ],
    )
    def test_a_presigned_url_with_a_filename_sets_content_disposition(
        self, store: S3Store, filename: str, expected: str
    ) -> None:
        key = new_key()
        store.put(key, io.BytesIO(b"bytes"), content_type="image/jpeg")
        response = httpx.get(store.presign_get(key, expires_in=60, filename=filename))
        assert response.status_code == 200
        assert response.headers["content-disposition"] == expected

    def test_a_public_endpoint_is_used_for_presigned_urls(self, s3_server: S3Server) -> None:
        store = make_s3_store(s3_server, "any-bucket", public_endpoint_url="https://photos.example")
        url = store.presign_get(new_key(), expires_in=60)
        assert url.startswith("https://photos.example/any-bucket/tests/")

    def test_an_unreachable_server_raises_unavailable_without_secrets(self) -> None:
        store = S3Store(
            endpoint_url="http://127.0.0.1:9",
            access_key="AKIDNOTREAL",
            secret_key="do-not-print-this-secret",
            bucket="b",
        )
        with pytest.raises(Unavailable) as unavailable:
            store.check()
        assert "do-not-print-this-secret" not in unavailable.value.message
        assert "AKIDNOTREAL" not in unavailable.value.message

    def test_wrong_credentials_raise_unavailable(self, s3_server: S3Server, bucket: str) -> None:
        store = S3Store(
            endpoint_url=s3_server.endpoint,
            access_key=s3_server.access_key,
            secret_key="wrong-secret",
            bucket=bucket,
        )
        with pytest.raises(Unavailable):
            store.check()


def url_parameters(url: str) -> tuple[str, str, str, str | None]:
    """(key, expires, signature, filename) of a LocalStore URL, as the API would read them."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    key = parts.path.removeprefix("/api/objects/")
    filename = query["filename"][0] if "filename" in query else None
    return key, query["expires"][0], query["signature"][0], filename


def flip_one_hex_character(signature: str) -> str:
    replacement = "0" if signature[-1] != "0" else "1"
    return signature[:-1] + replacement


def stored_parts(client: Any, bucket: str, key: str) -> list[Any]:
    uploads = client.list_multipart_uploads(Bucket=bucket, Prefix=key).get("Uploads", [])
    parts: list[Any] = []
    for upload in uploads:
        listing = client.list_parts(Bucket=bucket, Key=key, UploadId=upload["UploadId"])
        parts += listing.get("Parts", [])
    return parts
