"""An API process loads libvips when it first decodes a photo, not at start: a zip of clean
originals never decodes, and libvips would be ~20 MiB of its RSS (issue 15: under 150 MB).
On SQLite it loads no PostgreSQL client either (psycopg and libpq, ~9 MiB)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from tests.helpers.publish import jpeg, metadata_fields, photo_ids, send_photo, unzip
from tests.helpers.server import ADMIN_PASSWORD, Accounts, Server, base_env

LIBVIPS = re.compile(r"/libvips[^/]*\.so")
LIBPQ = re.compile(r"/libpq[^/]*\.so")


def _mapped(pid: int, library: re.Pattern[str]) -> bool:
    with open(f"/proc/{pid}/maps") as maps:
        return any(library.search(line) for line in maps)


@pytest.fixture
def api_only(tmp_path: Path) -> Iterator[Server]:
    """`serve --no-worker` on SQLite and a local store, of its own: no request has decoded a photo."""
    data_dir = tmp_path / "api"
    server = Server(
        url="", env=base_env(data_dir), data_dir=data_dir, backend="sqlite", serve_args=("--no-worker",)
    )
    server.cli("users", "create", "admin", "--admin", input=ADMIN_PASSWORD + "\n")
    server.start()
    yield server
    server.stop()
    assert "Traceback" not in server.log_text(), server.log_text()[-4000:]


def test_a_zip_of_clean_originals_never_loads_libvips_and_a_rendition_does(api_only: Server) -> None:
    accounts = Accounts(api_only)
    try:
        device = accounts.device()
        colours = [(200, 40, 40), (40, 200, 40), (40, 40, 200)]
        records = [send_photo(device, jpeg(2400, 1800, colour=c)) for c in colours]
        http = device.owner.http
        ids = photo_ids(device, records)
        set_id = http.post("/api/publish-sets", json={"title": "Shoot", "photo_ids": ids}).json()["id"]
        assert api_only.process is not None
        pid = api_only.process.pid

        clean = http.get(f"/api/publish-sets/{set_id}/download", params={"preset": "original-clean"})
        assert clean.status_code == 200, clean.text
        files = unzip(clean.content)
        assert sorted(files) == ["shoot-01.jpg", "shoot-02.jpg", "shoot-03.jpg"]
        assert all(metadata_fields(data) == [] for data in files.values())
        assert not _mapped(pid, LIBVIPS), "the API process loaded libvips for a zip of clean originals"
        assert not _mapped(pid, LIBPQ), "the API process on SQLite loaded PostgreSQL's client"

        web = http.get(f"/api/publish-sets/{set_id}/download", params={"preset": "web-2048"})
        assert web.status_code == 200, web.text
        renditions = unzip(web.content)
        assert sorted(renditions) == sorted(files)  # no REPORT.txt: each one made as asked
        assert {Image.open(io.BytesIO(data)).size for data in renditions.values()} == {(2048, 1536)}
        assert _mapped(pid, LIBVIPS)
    finally:
        accounts.close()
