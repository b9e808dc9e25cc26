"""A server with short thumbnail timings shared by this folder's tests: retries and the reconciler
within a second or two, and one attempt per job (a failure is final at once)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers.server import Server
from tests.helpers.thumbnails import launch


@pytest.fixture(scope="session")
def quick_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = launch(tmp_path_factory.mktemp("quick"), "quick", {"THUMBNAIL_MAX_ATTEMPTS": "1"})
    yield server
    server.stop()
