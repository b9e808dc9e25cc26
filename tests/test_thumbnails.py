"""Thumbnails: every fixture original through the real server, and the pixels of each kind of input."""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image, ImageOps

from image_assistant.thumbnails.render import UndecodableImage, render_thumbnails, sniff
from tests.helpers.library import LibraryPhoto, copy_library, read_library, sync_library, upload_multipart
from tests.helpers.server import Accounts, Server
from tests.helpers.thumbnails import jpeg, new_photo, photo_rows, thumbnail_bytes, wait_for, wait_settled

WIDTHS = {"small": 200, "medium": 600, "large": 1200}


# ---------------------------------------------------------------- every fixture original, every backend

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
            assert thumb.format == "JPEG"
            expected_width = min(target, width)
            assert thumb.width == expected_width, (photo.record["filename"], size, thumb.size)
            assert abs(thumb.height - round(height * expected_width / width)) <= 1, (
                photo.record["filename"],
                size,
            )
            assert not thumb.getexif(), f"{photo.record['filename']} {size} thumbnail keeps EXIF"
            assert "icc_profile" not in thumb.info and "xmp" not in thumb.info
            assert metadata_segments(data) == [], f"{photo.record['filename']} {size}"
            if size == "medium":
                large_pixels = thumb.convert("L")
    if photo.record["media_type"] != "video" and large_pixels is not None:
        reference = reference_thumbnail(photo, large_pixels.size)
        flipped = reference.rotate(180)
        same, upside_down = mean_difference(large_pixels, reference), mean_difference(large_pixels, flipped)
        assert same < 12 and same < upside_down, (photo.record["filename"], same, upside_down)


@pytest.mark.parametrize("library_name", LIBRARIES)
def test_every_fixture_original_gets_three_upright_thumbnails_without_metadata(
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
        assert row["thumbnails"] == {"small": True, "medium": True, "large": True}
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
    # test_thumbnails_queue.py. Here: the first attempt records its reason on the photo.
    row = wait_for(
        lambda: (r := device.owner.http.get(f"/api/photos/{broken}").json())["thumbnail_error"] and r,
        60,
        "the first attempt's reason",
    )
    assert "attempt 1 of 3" in row["thumbnail_error"] and "not a readable image" in row["thumbnail_error"]
    assert row["thumbnail_status"] == "pending"
    answer = device.owner.http.get(f"/api/photos/{broken}/thumbnail/large")
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "thumbnail_not_ready"


# ---------------------------------------------------------------- pixels of each kind of input


def render_one(tmp_path: Path, name: str, data: bytes) -> dict[str, Image.Image]:
    path = tmp_path / name
    path.write_bytes(data)
    out = render_thumbnails(path)
    return {size: Image.open(io.BytesIO(jpeg_bytes)) for size, jpeg_bytes in out.items()}


def test_small_originals_are_never_upscaled(tmp_path: Path) -> None:
    thumbs = render_one(tmp_path, "tiny.jpg", jpeg(450, 300))
    assert {s: t.size for s, t in thumbs.items()} == {
        "small": (200, 133),
        "medium": (450, 300),
        "large": (450, 300),
    }


def test_exif_orientation_is_applied_and_gps_is_stripped(tmp_path: Path) -> None:
    from PIL import Image as PILImage

    image = PILImage.new("RGB", (800, 400), "white")
    image.paste((255, 0, 0), (0, 0, 400, 400))  # left half red, as stored
    exif = PILImage.Exif()
    exif[0x0112] = 6  # display rotated 90° clockwise: red ends up on top
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 24.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=95)
    thumbs = render_one(tmp_path, "turned.jpg", out.getvalue())
    assert {s: t.size for s, t in thumbs.items()} == {
        "small": (200, 400),
        "medium": (400, 800),
        "large": (400, 800),
    }
    small = thumbs["small"].convert("RGB")
    top, bottom = small.getpixel((100, 50)), small.getpixel((100, 350))
    assert top[0] > 200 and top[1] < 60 and min(bottom) > 240, (top, bottom)
    assert not small.getexif()


def test_display_p3_photos_are_converted_to_srgb(tmp_path: Path) -> None:
    import pyvips

    green = pyvips.Image.black(64, 64, bands=3).new_from_image([0, 255, 0]).copy(interpretation="srgb")
    p3 = green.icc_transform("p3", input_profile="srgb")  # the same green, as Display P3 numbers
    data = p3.jpegsave_buffer(Q=95, profile="p3")
    small = render_one(tmp_path, "p3.jpg", data)["small"].convert("RGB")
    red, grn, blue = small.getpixel((32, 32))
    assert grn > 235 and red < 30 and blue < 40, (red, grn, blue)  # read as sRGB numbers again


@pytest.mark.parametrize("suffix", ["png", "tif", "webp"])
def test_png_tiff_and_webp_with_alpha_or_16_bits_become_plain_jpeg(tmp_path: Path, suffix: str) -> None:
    import pyvips

    base = pyvips.Image.black(1500, 1000, bands=3).new_from_image([30, 120, 200]).copy(interpretation="srgb")
    alpha = base.bandjoin(128)
    if suffix == "tif":
        data = (base.cast("ushort") * 256).copy(interpretation="rgb16").tiffsave_buffer(compression="deflate")
    elif suffix == "png":
        data = alpha.pngsave_buffer()
    else:
        data = alpha.webpsave_buffer()
    thumbs = render_one(tmp_path, f"image.{suffix}", data)
    assert {s: t.size for s, t in thumbs.items()} == {
        "small": (200, 133),
        "medium": (600, 400),
        "large": (1200, 800),
    }
    assert thumbs["large"].mode == "RGB"


def test_raw_file_uses_its_largest_embedded_preview_turned_by_the_raw_orientation(tmp_path: Path) -> None:
    import struct

    preview = jpeg(1600, 1200, quality=90)
    tiny = jpeg(160, 120)
    header = b"II*\x00" + struct.pack("<I", 8)  # little-endian TIFF, IFD0 at offset 8
    ifd = struct.pack("<H", 1) + struct.pack("<HHIHH", 0x0112, 3, 1, 8, 0) + struct.pack("<I", 0)
    raw = header + ifd + b"\x00" * 64 + tiny + b"\x00" * 32 + preview + b"sensor data" * 100
    path = tmp_path / "IMG_0001.CR2"
    path.write_bytes(raw)
    assert sniff(path) == "raw"
    thumbs = {s: Image.open(io.BytesIO(b)) for s, b in render_thumbnails(path).items()}
    assert thumbs["large"].size == (900, 1200)  # orientation 8: turned a quarter, from the 1600x1200 preview


@pytest.mark.parametrize(
    ("name", "data"),
    [("empty.jpg", b""), ("text.jpg", b"hello" * 100), ("cut.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 40)],
)
def test_undecodable_input_raises_a_clear_reason(tmp_path: Path, name: str, data: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(UndecodableImage, match="not a readable"):
        render_thumbnails(path)
