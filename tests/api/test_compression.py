"""Text answers travel gzipped to a client that accepts it (the gallery's bundle, pages of photos);
pictures and ranges of files are sent as they are; a client that does not ask for gzip gets
plain bytes."""

from __future__ import annotations

import gzip
import re

import httpx
import pytest

from tests.helpers.publish import jpeg, photo_ids, send_photo
from tests.helpers.records import records_over_days
from tests.helpers.server import Accounts

SQLITE = pytest.mark.parametrize("server", ["sqlite"], indirect=True)


@SQLITE
def test_the_bundle_and_photo_pages_are_gzipped_and_pictures_are_not(accounts: Accounts) -> None:
    device = accounts.device()
    assert device.http.post("/api/sync/photos", json={"photos": records_over_days(60)}).status_code == 200
    (photo_id,) = photo_ids(device, [send_photo(device, jpeg(1600, 1200))])
    owner = device.owner
    base = accounts.server.url
    gzip_please = {"accept-encoding": "gzip", "authorization": f"Bearer {owner.token}"}
    with httpx.Client(base_url=base, headers=gzip_please) as http:
        shell = http.get("/login").text
        bundle = re.search(r'src="(/static/dist/main\.js\?v=\w+)"', shell)
        assert bundle
        for path in (bundle.group(1), "/api/photos?limit=100"):
            # httpx undoes the gzip; the raw stream says what travelled.
            with http.stream("GET", path) as response:
                raw = b"".join(response.iter_raw())
            assert response.status_code == 200 and response.headers["content-encoding"] == "gzip", path
            assert len(raw) * 3 < len(gzip.decompress(raw)), path  # at least 3x smaller on the wire
        picture = http.get(f"/api/photos/{photo_id}/rendition", params={"preset": "web-2048"})
        assert picture.status_code == 200 and picture.headers["content-type"] == "image/jpeg"
        assert "content-encoding" not in picture.headers
        movie = send_photo(
            device,
            b"\0" * 300_000,
            filename="IMG_0002.MOV",
            content_type="video/quicktime",
            media_type="video",
        )
        (movie_id,) = photo_ids(device, [movie])
        signed = http.get(f"/api/photos/{movie_id}/download/original").json()["url"]
        with http.stream("GET", signed) as response:
            raw = b"".join(response.iter_raw())
        assert response.status_code == 200 and "content-encoding" not in response.headers
        assert len(raw) == 300_000  # a video is not gzipped, however well it would shrink
        made = http.post("/api/publish-sets", json={"title": "Shoot", "photo_ids": [photo_id]})
        assert made.status_code == 201
        zipped = f"/api/publish-sets/{made.json()['id']}/download"
        with http.stream("GET", zipped, params={"preset": "original-clean"}) as response:
            raw = b"".join(response.iter_raw())
        assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
        assert "content-encoding" not in response.headers and raw.startswith(b"PK")  # nor a zip
        # A Range request's Content-Range counts the file's own bytes: those are sent as they are.
        with http.stream("GET", bundle.group(1), headers={"range": "bytes=0-4095"}) as part:
            raw = b"".join(part.iter_raw())
        assert part.status_code == 206 and "content-encoding" not in part.headers
        assert len(raw) == 4096
    with httpx.Client(base_url=base, headers={"accept-encoding": "identity"}) as plain:
        response = plain.get(bundle.group(1))
        assert response.status_code == 200 and "content-encoding" not in response.headers


@SQLITE
def test_the_agents_batch_answers_are_not_gzipped(accounts: Accounts) -> None:
    """Mostly ids, they shrink little, and compressing them costs the ingest hot path."""
    device = accounts.device()
    batch = {"photos": records_over_days(100)}
    with httpx.Client(base_url=accounts.server.url, headers={"accept-encoding": "gzip"}) as http:
        headers = {"authorization": f"Bearer {device.token}"}
        with http.stream("POST", "/api/sync/photos", json=batch, headers=headers) as response:
            raw = b"".join(response.iter_raw())
        assert response.status_code == 200 and "content-encoding" not in response.headers
        assert len(raw) > 1024 and raw.startswith(b"{")
        listed = http.get(
            "/api/photos", params={"limit": 100}, headers={"authorization": f"Bearer {device.owner.token}"}
        )
        assert listed.headers["content-encoding"] == "gzip"  # the gallery's pages still are
