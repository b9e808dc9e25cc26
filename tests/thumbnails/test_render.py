"""Thumbnail rendering, without a server: the pixels made of each kind of input."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from image_assistant.thumbnails.formats import UndecodableImage, icc_description, sniff
from image_assistant.thumbnails.render import render_thumbnails
from tests.helpers.thumbnails import jpeg
from tests.helpers.videos import make_video


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


def test_large_photos_decoded_at_a_smaller_scale_keep_orientation_colour_and_grey(tmp_path: Path) -> None:
    """Photos wider than the largest size are scaled as they decode (by eighths); the result
    is still upright, in sRGB, and grey stays grey. CMYK and a cut-off file decode too."""
    import pyvips

    p3 = (
        pyvips.Image.black(8, 8, bands=3)
        .copy(interpretation="srgb")
        .icc_transform("p3", input_profile="srgb")
    )
    stored = Image.new("RGB", (3024, 2016), "white")  # stored sideways: EXIF orientation 6
    green_in_p3 = pyvips.Image.black(1, 1, bands=3).new_from_image([0, 255, 0]).copy(interpretation="srgb")
    stored.paste(
        tuple(round(v) for v in green_in_p3.icc_transform("p3", input_profile="srgb")(0, 0)),
        (0, 0, 1512, 2016),
    )
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    stored.save(out, "JPEG", exif=exif, icc_profile=p3.get("icc-profile-data"), quality=95)
    thumbs = render_one(tmp_path, "sideways-p3.jpg", out.getvalue())
    assert thumbs["large"].size == (1200, 1800) and thumbs["avif640"].size == (640, 960)
    large = thumbs["large"].convert("RGB")
    red, green, blue = large.getpixel((600, 300))  # the stored left half is on top once upright
    assert green > 235 and red < 30 and blue < 40, (red, green, blue)
    assert min(large.getpixel((600, 1500))) > 240

    grey = render_one(tmp_path, "grey.jpg", _saved(Image.new("L", (3000, 2000), 90)))
    assert grey["medium"].mode == "L" and grey["medium"].size == (600, 400)
    assert abs(grey["medium"].getpixel((300, 200)) - 90) <= 2

    cmyk = (
        pyvips.Image.black(3000, 2000, bands=4).new_from_image([0, 200, 200, 0]).copy(interpretation="cmyk")
    )
    from_cmyk = render_one(tmp_path, "cmyk.jpg", cmyk.jpegsave_buffer(Q=95))["small"]
    assert from_cmyk.mode == "RGB" and from_cmyk.size == (200, 133)
    red, green, blue = from_cmyk.getpixel((100, 66))
    assert red > 200 and green < 90 and blue < 90, (red, green, blue)  # magenta and yellow ink: red

    whole = _saved(Image.effect_noise((3000, 2000), 60).convert("RGB"))
    cut = render_one(tmp_path, "cut.jpg", whole[: len(whole) * 2 // 3])
    assert cut["large"].size == (1200, 800)


@pytest.mark.parametrize(
    ("stored", "large"),
    [
        ((3000, 2000), (1200, 800)),  # decoded at 4/8 (1500 px), 0.8 left: OpenCV's bicubic
        ((8800, 1100), (1200, 150)),  # decoded at 2/8 (2200 px), 0.55 left: libvips' lanczos3
    ],
)
def test_either_reduce_after_a_scaled_decode_keeps_the_size_and_the_picture(
    tmp_path: Path, stored: tuple[int, int], large: tuple[int, int]
) -> None:
    width, height = stored
    picture = Image.new("RGB", stored, (220, 30, 30))
    picture.paste((30, 30, 220), (width // 2, 0, width, height))
    thumbs = render_one(tmp_path, "halves.jpg", _saved(picture))
    assert thumbs["large"].size == large
    for thumb in (thumbs["large"], thumbs["medium"], thumbs["small"]):
        w, h = thumb.size
        left, right = thumb.getpixel((w // 4, h // 2)), thumb.getpixel((w * 3 // 4, h // 2))
        assert left[0] > 200 and left[2] < 50 and right[2] > 200 and right[0] < 50, (left, right)
        before, after = thumb.getpixel((w // 2 - 3, h // 2)), thumb.getpixel((w // 2 + 3, h // 2))
        assert before[0] > 150 > after[0], (before, after)  # the edge stays where it was


def _saved(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def test_icc_profiles_are_known_by_the_name_they_give_themselves() -> None:
    from PIL import ImageCms

    from tests.helpers.s3 import shared_dir

    originals = shared_dir() / "fixtures" / "photos-libraries" / "Test-14.0.0.photoslibrary" / "originals"
    with Image.open(next(originals.glob("6/6191423D-*.jpeg"))) as tagged:  # a v2 profile: 'desc' text
        assert icc_description(tagged.info["icc_profile"]) == "sRGB IEC61966-2.1"
    built = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()  # v4: 'mluc' text
    assert icc_description(built) == "Lab identity built-in"
    assert icc_description(b"not a profile") == ""


def test_srgb_tagged_photos_keep_their_pixels(tmp_path: Path) -> None:
    import pyvips

    from tests.helpers.s3 import shared_dir

    originals = shared_dir() / "fixtures" / "photos-libraries" / "Test-14.0.0.photoslibrary" / "originals"
    source = next(originals.glob("6/6191423D-*.jpeg"))  # tagged sRGB IEC61966-2.1, 2047 px wide
    small = render_one(tmp_path, "srgb.jpg", source.read_bytes())["small"].convert("RGB")
    untagged = pyvips.Image.new_from_file(str(source)).copy()
    untagged.remove("icc-profile-data")
    plain = render_one(tmp_path, "plain.jpg", untagged.jpegsave_buffer(Q=100, keep=0))["small"].convert("RGB")
    diff = [abs(a - b) for a, b in zip(small.tobytes(), plain.tobytes(), strict=True)]
    assert sum(diff) / len(diff) < 1.5, sum(diff) / len(diff)  # no colour shift, only re-encoding noise


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


_READ_LATER = """
import gc, sys
from pathlib import Path
from image_assistant.thumbnails.render import decode
image = decode(Path(sys.argv[1]), 1200)
gc.collect()
churn = [bytearray(b"\\xff") * (image.width * image.height * 3) for _ in range(40)]
print(round(image.avg()))
"""


def _heic(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    import pillow_heif

    out = io.BytesIO()
    pillow_heif.from_pillow(Image.new("RGB", (width, height), colour)).save(out, quality=90)
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "mean"),
    [
        ("IMG_1.HEIC", _heic(320, 240, (20, 20, 20)), 20),
        ("IMG_2.MOV", make_video(width=320, height=240, frames=1, audio=False), None),
    ],
)
def test_a_small_heic_or_poster_frame_keeps_its_pixels_after_the_decoder_lets_go(
    tmp_path: Path, name: str, data: bytes, mean: int | None
) -> None:
    """A HEIC or video frame no larger than the thumbnail is wrapped from the decoder's bytes;
    those bytes are freed and their memory reused before the thumbnail reads it (in a child:
    reading freed memory can kill the process)."""
    path = tmp_path / name
    path.write_bytes(data)
    if mean is None:
        import av

        with av.open(str(path)) as container:
            plane = next(container.decode(video=0)).reformat(format="rgb24").planes[0]
            row, rows = plane.width * 3, plane.height
            pixels = b"".join(bytes(plane)[y * plane.line_size :][:row] for y in range(rows))
        mean = round(sum(pixels) / len(pixels))
    read = subprocess.run([sys.executable, "-c", _READ_LATER, str(path)], capture_output=True, text=True)
    assert read.returncode == 0, read.stderr[-2000:]
    assert abs(int(read.stdout) - mean) <= 2
