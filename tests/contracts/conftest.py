"""The real S3 server and a bucket per module, for the S3 side of every contract."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.helpers.s3 import S3Server, ensure_s3_server, make_s3_store, remove_bucket


@pytest.fixture(scope="module")
def s3_server() -> S3Server:
    return ensure_s3_server()


@pytest.fixture(scope="module")
def bucket(s3_server: S3Server) -> Iterator[str]:
    """A fresh bucket for this module, emptied and removed at the end."""
    name = f"ia-test-{uuid.uuid4().hex[:16]}"
    make_s3_store(s3_server, name).ensure_bucket()
    yield name
    remove_bucket(s3_server, name)
