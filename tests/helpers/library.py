"""Test helper: read a fixture Photos library with osxphotos and send it to a server.

This is a small, direct uploader for tests that need a real library on the server;
the agent (`image-assistant agent`) is the product's way of doing the same.
"""

from __future__ import annotations

import hashlib
import json
import logging
import mimetypes
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

UTI_TYPES = {
    "public.jpeg": "image/jpeg",
    "public.heic": "image/heic",
    "public.tiff": "image/tiff",
    "public.png": "image/png",
    "com.adobe.raw-image": "image/x-adobe-dng",
    "com.canon.cr2-raw-image": "image/x-canon-cr2",
    "com.apple.quicktime-movie": "video/quicktime",
    "public.mpeg-4": "video/mp4",
}


@dataclass
class LibraryPhoto:
    record: dict[str, Any]
    path: Path | None
    albums: list[str]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def copy_library(fixtures_dir: Path, name: str, into: Path) -> Path:
    """A private copy of a fixture library (the fixtures folder stays read-only)."""
    target = into / name
    if not target.exists():
        shutil.copytree(fixtures_dir / name, target)
    return target


def read_library(library: Path) -> tuple[list[LibraryPhoto], list[dict[str, Any]]]:
    import osxphotos

    logging.getLogger("osxphotos").setLevel(logging.ERROR)
    db = osxphotos.PhotosDB(dbfile=str(library))
    photos = []
    for info in db.photos():
        path = Path(info.path) if info.path and Path(info.path).is_file() else None
        lat, lng = info.location
        media = "live" if info.live_photo else "video" if info.ismovie else "photo"
        content_type = UTI_TYPES.get(info.uti) or (
            mimetypes.guess_type(info.original_filename)[0] or "application/octet-stream"
        )
        record = {
            "photos_uuid": info.uuid,
            "filename": info.original_filename,
            "content_type": content_type,
            "media_type": media,
            "width": info.width,
            "height": info.height,
            "taken_at": info.date.isoformat(),
            "location_lat": lat,
            "location_lng": lng,
            "is_favorite": bool(info.favorite),
            "is_hidden": bool(info.hidden),
        }
        if path is not None:
            record["checksum_sha256"] = sha256_of(path)
            record["file_size"] = path.stat().st_size
        photos.append(LibraryPhoto(record, path, list(info.albums)))
    albums = [
        {
            "photos_uuid": album.uuid,
            "title": album.title,
            "album_type": "shared" if getattr(album, "cloud_guid", None) and album.owner else "user",
            "folder_path": list(album.folder_names),
            "photos": [p.uuid for p in album.photos],
        }
        for album in db.album_info
    ]
    return photos, albums


def upload_multipart(http: httpx.Client, photo: LibraryPhoto) -> httpx.Response:
    """The original design's upload: one multipart request with metadata + file."""
    assert photo.path is not None
    with photo.path.open("rb") as handle:
        return http.post(
            "/api/sync/photos",
            data={"metadata": json.dumps(photo.record)},
            files={"file": (photo.record["filename"], handle, photo.record["content_type"])},
        )


def sync_library(http: httpx.Client, library: Path) -> tuple[list[LibraryPhoto], list[dict[str, Any]]]:
    """Metadata in batches, albums, then every local original; returns what was read."""
    photos, albums = read_library(library)
    for start in range(0, len(photos), 100):
        batch = [p.record for p in photos[start : start + 100]]
        response = http.post("/api/sync/photos", json={"photos": batch})
        assert response.status_code == 200, response.text
    response = http.post("/api/sync/albums", json={"albums": albums, "complete": True})
    assert response.status_code == 200, response.text
    for photo in photos:
        if photo.path is None:
            continue
        with photo.path.open("rb") as handle:
            response = http.put(
                f"/api/sync/photos/{photo.record['photos_uuid']}/original",
                content=handle,
                headers={"x-content-sha256": photo.record["checksum_sha256"]},
            )
        assert response.status_code == 200, response.text
    return photos, albums
