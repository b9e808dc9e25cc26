"""Thumbnails through the real server: every fixture original, on every backend, and a not-ready link."""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image, ImageOps

from tests.helpers.library import LibraryPhoto, copy_library, read_library, sync_library, upload_multipart
from tests.helpers.server import Accounts, Server
from tests.helpers.thumbnails import new_photo, photo_rows, thumbnail_bytes, wait_for, wait_settled

WIDTHS = {"small": 200, "medium": 600, "large": 1200, "avif400": 400, "avif640": 640}

LIBRARIES = ["Test-14.0.0.photoslibrary", "Test-Cloud-13.1.photoslibrary"]


def upright_size(photo: LibraryPhoto) -> tuple[int, int]:
    """The original's displayed size, read independently of our pipeline (Pillow, or Photos.app)."""
    assert photo.path is not None
    if photo.record["media_type"] == "video" or photo.path.suffix.lower() in (".mov", ".mp4"):
        return int(photo.record["width"]), int(photo.record["height"])
    import pillow_heif

    pillow_heif.register_heif_opener()
    with Image.open(photo.path) as image:
        transposed = ImageOps.exif_transpose(image)
        assert transposed is not None
        return transposed.size


def reference_thumbnail(photo: LibraryPhoto, size: tuple[int, int]) -> Image.Image:
    """Pillow's own upright rendering of a still original at `size`, in grey."""
    assert photo.path is not None
    with Image.open(photo.path) as image:
        image.draft("RGB", (size[0] * 2, size[1] * 2))
        upright = ImageOps.exif_transpose(image)
        assert upright is not None
        return upright.convert("L").resize(size)


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    from PIL import ImageChops, ImageStat

    return float(ImageStat.Stat(ImageChops.difference(a, b)).mean[0])


def metadata_segments(jpeg_data: bytes) -> list[str]:
    """Names of the JPEG header segments that carry metadata (EXIF/XMP APP1, ICC APP2, …, comments)."""
    found, at = [], 2
    while at + 4 <= len(jpeg_data) and jpeg_data[at] == 0xFF:
        marker = jpeg_data[at + 1]
        if marker == 0xDA:  # start of scan: the header is over
            break
        if 0xE1 <= marker <= 0xEF or marker == 0xFE:
            found.append(f"APP{marker - 0xE0}" if marker != 0xFE else "COM")
        at += 2 + int.from_bytes(jpeg_data[at + 2 : at + 4], "big")
    return found


def check_thumbnails(http: httpx.Client, row: dict[str, Any], photo: LibraryPhoto) -> None:
    width, height = upright_size(photo)
    large_pixels = None
    for size, target in WIDTHS.items():
        data = thumbnail_bytes(http, row["id"], size)
        with Image.open(io.BytesIO(data)) as thumb:
            assert thumb.format == ("AVIF" if size.startswith("avif") else "JPEG"), (size, thumb.format)
            expected_width = min(target, width)
            assert thumb.width == expected_width, (photo.record["filename"], size, thumb.size)
            assert abs(thumb.height - round(height * expected_width / width)) <= 1, (
                photo.record["filename"],
                size,
            )
            assert not thumb.getexif(), f"{photo.record['filename']} {size} thumbnail keeps EXIF"
            assert "icc_profile" not in thumb.info and "xmp" not in thumb.info
            if thumb.format == "JPEG":
                assert metadata_segments(data) == [], f"{photo.record['filename']} {size}"
            if size == "medium":
                large_pixels = thumb.convert("L")
    if photo.record["media_type"] != "video" and large_pixels is not None:
        reference = reference_thumbnail(photo, large_pixels.size)
        flipped = reference.rotate(180)
        same, upside_down = mean_difference(large_pixels, reference), mean_difference(large_pixels, flipped)
        assert same < 12 and same < upside_down, (photo.record["filename"], same, upside_down)


@pytest.mark.parametrize("library_name", LIBRARIES)
def test_every_fixture_original_gets_upright_thumbnails_of_every_size_without_metadata(
    server: Server, accounts: Accounts, fixtures_dir: Path, tmp_path: Path, library_name: str
) -> None:
    library = copy_library(fixtures_dir, library_name, tmp_path)
    device = accounts.device()
    if library_name.startswith("Test-14"):  # the original design's multipart upload
        photos, _ = read_library(library)
        for photo in photos:
            if photo.path is not None:
                assert upload_multipart(device.http, photo).status_code == 200
    else:  # metadata batches, then each original streamed with PUT
        photos, _ = sync_library(device.http, library)
    local = {p.record["photos_uuid"]: p for p in photos if p.path is not None}
    by_uuid = {r["photos_uuid"]: r for r in photo_rows(device.owner.http)}
    rows = wait_settled(device.owner.http, {by_uuid[u]["id"] for u in local})
    failed = {r["filename"]: r["thumbnail_error"] for r in rows.values() if r["thumbnail_status"] == "failed"}
    assert not failed, f"thumbnails failed: {failed}"
    for row in rows.values():
        assert row["thumbnails"] == dict.fromkeys(WIDTHS, True)
        check_thumbnails(device.owner.http, row, local[row["photos_uuid"]])
    status = device.http.get("/api/sync/status").json()["thumbnails"]
    assert status == {"pending": 0, "processing": 0, "completed": len(local), "failed": 0}


def test_thumbnail_link_answers_not_ready_until_made_and_bad_input_fails_with_a_reason(
    server: Server, accounts: Accounts
) -> None:
    device = accounts.device()
    record = {
        "photos_uuid": str(uuid.uuid4()).upper(),
        "filename": "x.jpg",
        "taken_at": "2024-05-01T10:00:00Z",
    }
    created = device.http.post("/api/sync/photos", json={"photos": [record]}).json()["results"][0]
    waiting = device.owner.http.get(f"/api/photos/{created['id']}/thumbnail/small")
    assert waiting.status_code == 404 and waiting.json()["error"]["code"] == "thumbnail_not_ready"
    broken = new_photo(device.http, b"this is not a picture at all" * 50, "broken.jpg")
    assert device.owner.http.get(f"/api/photos/{broken}").json()["thumbnail_status"] in (
        "pending",
        "processing",
    )
    # Default retry delays are long (30 s, 60 s); the failure is tested with short ones in
    # tests/thumbnails/test_workers.py. Here: the first attempt records its reason on the photo.
    row = wait_for(
        lambda: (r := device.owner.http.get(f"/api/photos/{broken}").json())["thumbnail_error"] and r,
        60,
        "the first attempt's reason",
    )
    assert "attempt 1 of 3" in row["thumbnail_error"] and "not a readable image" in row["thumbnail_error"]
    assert row["thumbnail_status"] == "pending"
    answer = device.owner.http.get(f"/api/photos/{broken}/thumbnail/large")
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "thumbnail_not_ready"
