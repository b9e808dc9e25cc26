"""Thumbnail rendering, without a server: the pixels made of each kind of input."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from image_assistant.thumbnails.formats import UndecodableImage, sniff
from image_assistant.thumbnails.render import render_thumbnails
from tests.helpers.thumbnails import jpeg


def render_one(tmp_path: Path, name: str, data: bytes) -> dict[str, Image.Image]:
    path = tmp_path / name
    path.write_bytes(data)
    out = render_thumbnails(path)
    return {size: Image.open(io.BytesIO(data)) for size, data in out.items()}


def test_small_originals_are_never_upscaled(tmp_path: Path) -> None:
    thumbs = render_one(tmp_path, "tiny.jpg", jpeg(450, 300))
    assert {s: t.size for s, t in thumbs.items()} == {
        "small": (200, 133),
        "medium": (450, 300),
        "large": (450, 300),
        "avif400": (400, 267),
        "avif640": (450, 300),
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
        "avif400": (400, 800),
        "avif640": (400, 800),
    }
    small = thumbs["small"].convert("RGB")
    top, bottom = small.getpixel((100, 50)), small.getpixel((100, 350))
    assert top[0] > 200 and top[1] < 60 and min(bottom) > 240, (top, bottom)
    assert not small.getexif()
    assert not thumbs["avif400"].getexif() and "xmp" not in thumbs["avif400"].info


def test_display_p3_photos_are_converted_to_srgb(tmp_path: Path) -> None:
    import pyvips

    green = pyvips.Image.black(64, 64, bands=3).new_from_image([0, 255, 0]).copy(interpretation="srgb")
    p3 = green.icc_transform("p3", input_profile="srgb")  # the same green, as Display P3 numbers
    data = p3.jpegsave_buffer(Q=95, profile="p3")
    small = render_one(tmp_path, "p3.jpg", data)["small"].convert("RGB")
    red, grn, blue = small.getpixel((32, 32))
    assert grn > 235 and red < 30 and blue < 40, (red, grn, blue)  # read as sRGB numbers again


@pytest.mark.parametrize("suffix", ["png", "tif", "webp"])
def test_png_tiff_and_webp_with_alpha_or_16_bits_become_plain_jpeg_and_avif(
    tmp_path: Path, suffix: str
) -> None:
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
        "avif400": (400, 267),
        "avif640": (640, 427),
    }
    assert thumbs["large"].mode == "RGB" and thumbs["avif640"].mode == "RGB"
    assert {s: t.format for s, t in thumbs.items()} == {
        "small": "JPEG",
        "medium": "JPEG",
        "large": "JPEG",
        "avif400": "AVIF",
        "avif640": "AVIF",
    }


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


def test_libvips_caches_no_operation_from_the_moment_it_is_loaded() -> None:
    """libvips is loaded on first use (thumbnails/vips.py); its cache would keep pixels."""
    probe = (
        "from image_assistant.thumbnails.vips import pyvips as v;"
        "print(v.cache_get_max(), v.cache_get_max_mem())"
    )
    shown = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert shown.stdout.split() == ["0", "0"]
