"""Fixtures of the operator's tools: a bucket of its own per test."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from tests.helpers.s3 import ensure_s3_server, remove_bucket


@pytest.fixture
def s3_bucket(s3_env: dict[str, str]) -> Iterator[str]:
    """A bucket name of its own for one test, removed afterwards."""
    name = f"ia-t-{secrets.token_hex(4)}"
    yield name
    remove_bucket(ensure_s3_server(), name)
