"""A real Photos library (Test-14.0.0) through the API: originals, albums, downloads."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import httpx

from tests.helpers.library import copy_library, read_library, sync_library, upload_multipart
from tests.helpers.server import Accounts, Server

LIBRARY = "Test-14.0.0.photoslibrary"


def test_every_local_original_uploads_by_multipart_and_downloads_identical(
    server: Server, accounts: Accounts, fixtures_dir: Path, tmp_path: Path
) -> None:
    library = copy_library(fixtures_dir, LIBRARY, tmp_path)
    photos, _ = read_library(library)
    local = [p for p in photos if p.path is not None]
    assert len(local) >= 8, "the fixture should hold several local originals"
    device = accounts.device()
    for photo in local:
        response = upload_multipart(device.http, photo)
        assert response.status_code == 200, response.text
        assert response.json()["results"][0]["status"] == "created"
    for photo in photos:
        if photo.path is None:  # like "Optimize Mac Storage": metadata now, original later
            response = device.http.post(
                "/api/sync/photos", files={"metadata": (None, json.dumps(photo.record))}
            )
            assert response.json()["results"][0]["needs_upload"] is True
    again = upload_multipart(device.http, local[0])
    assert again.json()["results"][0]["status"] == "unchanged"
    assert device.http.get("/api/sync/pending").json()["photos_uuids"] == sorted(
        p.record["photos_uuid"] for p in photos if p.path is None
    )
    listing = device.owner.http.get("/api/photos", params={"limit": 500}).json()["photos"]
    by_uuid = {p["photos_uuid"]: p for p in listing}
    for photo in local:
        row = by_uuid[photo.record["photos_uuid"]]
        link = device.owner.http.get(f"/api/photos/{row['id']}/download").json()["url"]
        body = httpx.get(link, timeout=60)
        assert body.status_code == 200
        assert hashlib.sha256(body.content).hexdigest() == photo.record["checksum_sha256"]


def test_albums_keep_folders_order_and_same_titled_albums_apart(
    server: Server, accounts: Accounts, fixtures_dir: Path, tmp_path: Path
) -> None:
    library = copy_library(fixtures_dir, LIBRARY, tmp_path)
    device = accounts.device()
    _, albums = sync_library(device.http, library)
    listed = device.owner.http.get("/api/albums").json()["albums"]
    assert len(listed) == len(albums)
    titles = [a["title"] for a in listed]
    assert titles.count("Test Album") == 2
    assert "2019-10/11 Paris Clermont" in titles
    nested = next(a for a in listed if a["title"] == "AlbumInFolder")
    assert nested["folder_path"] == ["Folder1", "SubFolder2"]
    empty = next(a for a in listed if a["title"] == "EmptyAlbum")
    assert empty["photo_count"] == 0 and empty["cover"] is None
    pumpkins = next(a for a in albums if a["title"] == "Pumpkin Farm")
    opened = device.owner.http.get(
        f"/api/albums/{next(a['id'] for a in listed if a['title'] == 'Pumpkin Farm')}"
    ).json()
    assert [p["photos_uuid"] for p in opened["photos"]] == pumpkins["photos"]
    status = device.http.get("/api/sync/status").json()
    assert status["albums"] == len(albums)
    assert status["pending_uploads"] == sum(1 for a in read_library(library)[0] if a.path is None)
