"""The object store as an S3 bucket (AWS, MinIO, Ceph RGW), through boto3."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from image_assistant.errors import ObjectNotFound, Unavailable
from image_assistant.store.base import (
    ListedObject,
    MultipartStore,
    ObjectInfo,
    Part,
    PendingMultipart,
    Readable,
)
from image_assistant.store.keys import validate_key

CHUNK_SIZE = 1024 * 1024
MULTIPART_SIZE = 16 * 1024 * 1024
_NOT_FOUND_CODES = {"404", "NoSuchKey", "NotFound"}
_BUCKET_MISSING_CODES = {"404", "NoSuchBucket", "NotFound"}
_NO_UPLOAD_CODES = {"404", "NoSuchUpload"}


class S3Store(MultipartStore):
    """Objects are keys in one bucket; downloads are SigV4 presigned URLs."""

    def __init__(
        self,
        *,
        endpoint_url: str,
        access_key: str,
        secret_key: str,
        bucket: str,
        region: str = "us-east-1",
        public_endpoint_url: str | None = None,
    ) -> None:
        self._bucket = bucket
        self._region = region
        self._endpoint_url = endpoint_url
        self._client = _make_client(endpoint_url, access_key, secret_key, region)
        self._presign_client = (
            _make_client(public_endpoint_url, access_key, secret_key, region)
            if public_endpoint_url
            else self._client
        )
        self._transfer_config = TransferConfig(
            multipart_threshold=MULTIPART_SIZE,
            multipart_chunksize=MULTIPART_SIZE,
            max_concurrency=2,
            use_threads=True,
        )

    def ensure_bucket(self) -> None:
        """Create the bucket unless it exists already."""
        with self._translated_errors("create the bucket"):
            try:
                self._client.head_bucket(Bucket=self._bucket)
                return
            except ClientError as exc:
                if _error_code(exc) not in _BUCKET_MISSING_CODES:
                    raise
            try:
                self._client.create_bucket(**self._create_bucket_args())
            except ClientError as exc:
                if _error_code(exc) != "BucketAlreadyOwnedByYou":
                    raise

    def put(self, key: str, stream: Readable, *, content_type: str) -> ObjectInfo:
        """Upload `stream`; objects over 16 MiB go multipart, aborted by s3transfer on failure.

        An exception raised by `stream.read` propagates unchanged and stores nothing.
        """
        validate_key(key)
        counted = _CountingReader(stream)
        with self._translated_errors("store an object"):
            self._client.upload_fileobj(
                counted,
                self._bucket,
                key,
                ExtraArgs={"ContentType": content_type},
                Config=self._transfer_config,
            )
        return ObjectInfo(key=key, size=counted.size, content_type=content_type)

    def open(self, key: str) -> Iterator[bytes]:
        """Start the GET now (so absence raises here) and yield the body in 1 MiB chunks."""
        validate_key(key)
        with self._translated_errors("read an object"):
            try:
                response = self._client.get_object(Bucket=self._bucket, Key=key)
            except ClientError as exc:
                if _error_code(exc) in _NOT_FOUND_CODES:
                    raise ObjectNotFound(key) from None
                raise
        return self._read_chunks(response["Body"])

    def head(self, key: str) -> ObjectInfo:
        """Size and content type as the bucket reports them."""
        validate_key(key)
        with self._translated_errors("inspect an object"):
            try:
                response = self._client.head_object(Bucket=self._bucket, Key=key)
            except ClientError as exc:
                if _error_code(exc) in _NOT_FOUND_CODES:
                    raise ObjectNotFound(key) from None
                raise
        return ObjectInfo(
            key=key,
            size=int(response["ContentLength"]),
            content_type=response.get("ContentType") or "application/octet-stream",
        )

    def delete(self, key: str) -> None:
        """Delete the key; S3 answers the same whether it existed or not."""
        validate_key(key)
        with self._translated_errors("delete an object"):
            self._client.delete_object(Bucket=self._bucket, Key=key)

    def presign_get(self, key: str, *, expires_in: int, filename: str | None = None) -> str:
        """An absolute SigV4 URL on the public endpoint when one is configured."""
        validate_key(key)
        params: dict[str, Any] = {"Bucket": self._bucket, "Key": key}
        if filename is not None:
            params["ResponseContentDisposition"] = attachment_disposition(filename)
        with self._translated_errors("sign a download link"):
            url: str = self._presign_client.generate_presigned_url(
                "get_object", Params=params, ExpiresIn=expires_in
            )
        return url

    def check(self) -> None:
        """Raise Unavailable unless the bucket answers HEAD with our credentials."""
        with self._translated_errors("reach the bucket"):
            self._client.head_bucket(Bucket=self._bucket)

    def start_multipart(self, key: str) -> str:
        validate_key(key)
        with self._translated_errors("begin a multipart upload"):
            response = self._client.create_multipart_upload(Bucket=self._bucket, Key=key)
        return str(response["UploadId"])

    def put_part(self, key: str, multipart_id: str, *, number: int, data: bytes) -> None:
        validate_key(key)
        with self._translated_errors("store a part"):
            self._client.upload_part(
                Bucket=self._bucket, Key=key, UploadId=multipart_id, PartNumber=number, Body=data
            )

    def parts(self, key: str, multipart_id: str) -> list[Part]:
        validate_key(key)
        found: list[Part] = []
        with self._translated_errors("list the parts of an upload"):
            try:
                pages = self._client.get_paginator("list_parts").paginate(
                    Bucket=self._bucket, Key=key, UploadId=multipart_id
                )
                for page in pages:
                    found += [
                        Part(number=int(p["PartNumber"]), size=int(p["Size"]), tag=str(p["ETag"]))
                        for p in page.get("Parts", [])
                    ]
            except ClientError as exc:
                if _error_code(exc) in _NO_UPLOAD_CODES:
                    raise ObjectNotFound(key) from None
                raise
        return sorted(found, key=lambda part: part.number)

    def complete_multipart(self, key: str, multipart_id: str, parts: list[Part]) -> None:
        validate_key(key)
        with self._translated_errors("complete a multipart upload"):
            self._client.complete_multipart_upload(
                Bucket=self._bucket,
                Key=key,
                UploadId=multipart_id,
                MultipartUpload={"Parts": [{"PartNumber": p.number, "ETag": p.tag} for p in parts]},
            )

    def abort_multipart(self, key: str, multipart_id: str) -> None:
        validate_key(key)
        with self._translated_errors("abort a multipart upload"):
            try:
                self._client.abort_multipart_upload(Bucket=self._bucket, Key=key, UploadId=multipart_id)
            except ClientError as exc:
                if _error_code(exc) not in _NO_UPLOAD_CODES:
                    raise

    def pending_multiparts(self, prefix: str) -> Iterator[PendingMultipart]:
        with self._translated_errors("list multipart uploads"):
            pages = self._client.get_paginator("list_multipart_uploads").paginate(
                Bucket=self._bucket, Prefix=prefix
            )
            for page in pages:
                for upload in page.get("Uploads", []):
                    yield PendingMultipart(
                        key=upload["Key"], multipart_id=upload["UploadId"], started_at=upload["Initiated"]
                    )

    def objects(self, prefix: str, *, start_after: str = "") -> Iterator[ListedObject]:
        after = {"StartAfter": start_after} if start_after else {}
        with self._translated_errors("list objects"):
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self._bucket, Prefix=prefix, **after
            )
            for page in pages:
                for item in page.get("Contents", []):
                    yield ListedObject(key=item["Key"], modified_at=item["LastModified"])

    def list_keys(self, prefix: str, *, start_after: str = "") -> Iterator[str]:
        """S3 lists keys in the order of their UTF-8 bytes: key order, as keys are ASCII."""
        return (listed.key for listed in self.objects(prefix, start_after=start_after))

    def copy(self, source: str, target: str, *, content_type: str) -> ObjectInfo:
        """A server-side copy; s3transfer copies objects over 16 MiB in parts (so past 5 GB too)."""
        validate_key(source)
        validate_key(target)
        with self._translated_errors("copy an object"):
            self._client.copy(
                {"Bucket": self._bucket, "Key": source},
                self._bucket,
                target,
                ExtraArgs={"ContentType": content_type, "MetadataDirective": "REPLACE"},
                Config=self._transfer_config,
            )
        return self.head(target)

    def _create_bucket_args(self) -> dict[str, Any]:
        args: dict[str, Any] = {"Bucket": self._bucket}
        if self._region != "us-east-1":
            args["CreateBucketConfiguration"] = {"LocationConstraint": self._region}
        return args

    def _read_chunks(self, body: Any) -> Iterator[bytes]:
        try:
            with self._translated_errors("read an object"):
                yield from body.iter_chunks(CHUNK_SIZE)
        finally:
            body.close()

    @contextmanager
    def _translated_errors(self, action: str) -> Iterator[None]:
        """Turn botocore's errors into Unavailable; the message names no credentials."""
        try:
            yield
        except ClientError as exc:
            raise Unavailable(
                f"object store refused to {action} in bucket {self._bucket!r}: "
                f"{_error_code(exc) or 'unknown error'}"
            ) from exc
        except BotoCoreError as exc:
            raise Unavailable(
                f"object store at {self._endpoint_url} is unreachable "
                f"(could not {action}): {type(exc).__name__}"
            ) from exc


def attachment_disposition(filename: str) -> str:
    """`attachment; filename="..."` with an ASCII fallback and an RFC 5987 UTF-8 form."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename)
    disposition = f'attachment; filename="{fallback}"'
    if fallback != filename:
        disposition += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return disposition


class _CountingReader:
    """A read-only, non-seekable view of a stream that counts the bytes read.

    Being non-seekable makes s3transfer read parts in order, from one thread, so an
    exception from `read` reaches us unchanged.
    """

    def __init__(self, stream: Readable) -> None:
        self._stream = stream
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self._stream.read(size)
        self.size += len(chunk)
        return chunk


def _make_client(endpoint_url: str, access_key: str, secret_key: str, region: str) -> Any:
    config = Config(
        signature_version="s3v4",
        s3={"addressing_style": "path"},
        retries={"max_attempts": 3, "mode": "standard"},
    )
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint_url,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name=region,
        config=config,
    )


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
