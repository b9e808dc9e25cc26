"""Pixels: one decode of an original (photo, HEIC, RAW or video) into sRGB JPEG thumbnails.

The original is decoded once, shrunk on load to the largest size wanted, upright and
in sRGB; the smaller sizes are made from that image. Thumbnails carry no metadata.
Between the steps the pixels are one numpy buffer, which libvips, OpenCV and libjpeg-turbo
(simplejpeg) each read in place: a 1200 px image is ~7 MB, and every extra copy of it costs
about as much as a JPEG encode.
Importing this module loads libvips (thumbnails/vips.py): import it where a photo is decoded.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import simplejpeg  # type: ignore[import-untyped]  # its .pyi ships without a py.typed marker

from image_assistant.store.keys import AVIF_SIZES, THUMBNAIL_SIZES
from image_assistant.thumbnails.formats import UndecodableImage, icc_description, sniff, tiff_orientation
from image_assistant.thumbnails.vips import pyvips

# Huge upper bound for the height: thumbnails are sized by width, aspect kept.
_ANY_HEIGHT = 10_000_000
# Profiles that are sRGB already: converting from them is the identity, at ~15 ms a photo.
_SRGB_PROFILES = {"sRGB IEC61966-2.1", "sRGB"}
# The JPEG colour spaces simplejpeg decodes, and what it decodes them to; CMYK goes to libvips.
_EIGHTHS_SPACES = {"YCbCr": "RGB", "RGB": "RGB", "Gray": "GRAY"}
# Below this scale the last reduce after a scaled decode is libvips' lanczos3, whose kernel
# widens with the reduction; at or above it OpenCV's bicubic, 2.3x faster and within 0.3 dB of
# it after the JPEG encode (scaled decodes leave 0.72-0.98 to go: bench/thumbnails.py).
_CUBIC_FROM = 0.7
# One thread: the worker runs one job per core already (as VIPS_CONCURRENCY does for libvips).
cv2.setNumThreads(1)

# Upright pixels, rows x columns x bands (1: grey, 3: sRGB), 8 bits.
Pixels = npt.NDArray[np.uint8]


def render_thumbnails(
    source: Path, sizes: Sequence[str] = tuple(THUMBNAIL_SIZES), *, quality: int = 82, avif_quality: int = 45
) -> dict[str, bytes]:
    """JPEG bytes (AVIF for AVIF_SIZES) for each size name in `sizes`, made from the file at `source`.

    Widths are THUMBNAIL_SIZES[size], never more than the original's width.
    Raises UndecodableImage when the file is not something we can read.
    """
    widths = sorted({THUMBNAIL_SIZES[size] for size in sizes}, reverse=True)
    avif_widths = {THUMBNAIL_SIZES[size] for size in sizes if size in AVIF_SIZES}
    if not widths:
        return {}
    try:
        largest = _upright(source, widths[0])
        by_width = _downscale_chain(largest, [w for w in widths if w == widths[0] or w not in avif_widths])
        for width in sorted(avif_widths, reverse=True):  # each from the next larger JPEG one
            if width not in by_width:
                larger = min(w for w in by_width if w > width)
                by_width.update(_downscale_chain(by_width[larger], [width]))
        return {
            size: _avif(by_width[THUMBNAIL_SIZES[size]], avif_quality)
            if size in AVIF_SIZES
            else _jpeg(by_width[THUMBNAIL_SIZES[size]], quality)
            for size in sizes
        }
    except pyvips.Error as exc:
        raise UndecodableImage(_vips_reason(exc)) from None


def decode(source: Path, width: int) -> pyvips.Image:
    """The original as an upright sRGB image no wider than `width`, held in memory.

    The image wraps the decoded buffer and keeps it alive; operations on it carry it on.
    """
    return _image(_upright(source, width))


def _upright(source: Path, width: int) -> Pixels:
    """The original's pixels, upright, in sRGB (or grey), no wider than `width`."""
    kind = sniff(source)
    if kind == "heif":
        image = _decode_heif(source)
    elif kind == "video":
        image = _decode_video(source)
    elif kind == "raw":
        image = _decode_raw(source, width)
    elif kind == "jpeg":
        return _decode_jpeg(source, width)
    else:
        image = _decode_with_vips(source, width)
    return _pixels(_finish(image, width))


def _decode_jpeg(source: Path, width: int) -> Pixels:
    """JPEG decoded at the smallest DCT scale that stays at least `width` wide, then reduced.

    libjpeg-turbo scales by eighths (3/8 of a 12-MP photo for 1200 px); libvips' shrink-on-load
    only halves (1/2: 78 % more pixels to decode and reduce). libvips reads what simplejpeg
    can't (CMYK, damaged files) and a full-size decode, which it streams.
    """
    try:
        header = pyvips.Image.jpegload(str(source), fail_on="none")
        orientation = header.get("orientation") if header.get_typeof("orientation") else 1
        turned = orientation in (5, 6, 7, 8)
        upright_width = header.height if turned else header.width
        scaled = _eighths(source, width, turned) if upright_width > width else None
        if scaled is None:
            return _pixels(_finish(_streamed(source, upright_width, width, orientation), width))
        if orientation in (0, 1) and not _needs_srgb(header):
            return scaled  # upright and sRGB already: no pass over the pixels at all
        image = _image(scaled).copy()
        for name in ("orientation", "icc-profile-data"):
            if header.get_typeof(name):
                image.set_type(header.get_typeof(name), name, header.get(name))
        return _pixels(_finish(image.autorot(), width))
    except pyvips.Error as exc:
        raise UndecodableImage(f"not a readable image: {_vips_reason(exc)}") from None


def _streamed(source: Path, upright_width: int, width: int, orientation: int) -> pyvips.Image:
    """libvips' decode, shrunk on load by halves and reduced to `width`, upright."""
    image = _halves(source, upright_width, width)
    turned = orientation in (5, 6, 7, 8)
    image_width = image.height if turned else image.width
    if image_width > width:
        image = image.resize(width / image_width, kernel="lanczos3")
    if orientation in (1, 2):  # read top to bottom
        return image.autorot()
    return image.copy_memory().autorot()  # turning reads out of order: the shrunk image first


def _eighths(source: Path, width: int, turned: bool) -> Pixels | None:
    """The JPEG scaled on decode by libjpeg-turbo and reduced to `width` (as stored, not yet
    turned); None when simplejpeg can't read it."""
    data = source.read_bytes()
    try:
        space = simplejpeg.decode_jpeg_header(data)[2]
        if space not in _EIGHTHS_SPACES:
            return None
        at_least = {"min_height": width} if turned else {"min_width": width}
        pixels: Pixels = simplejpeg.decode_jpeg(data, _EIGHTHS_SPACES[space], strict=False, **at_least)
    except ValueError:
        return None
    rows, columns, _ = pixels.shape
    along = rows if turned else columns
    return _reduced(pixels, width / along) if along > width else pixels


def _reduced(pixels: Pixels, scale: float) -> Pixels:
    rows, columns, bands = pixels.shape
    if scale < _CUBIC_FROM:
        return _pixels(_image(pixels).resize(scale, kernel="lanczos3"))
    size = (_rounded(columns * scale), _rounded(rows * scale))
    reduced = np.asarray(cv2.resize(pixels, size, interpolation=cv2.INTER_CUBIC), dtype=np.uint8)
    return reduced.reshape(size[1], size[0], bands)  # OpenCV drops a single band's axis


def _rounded(value: float) -> int:
    """libvips' rounding of a scaled size (half up), so both reduces agree on it."""
    return max(1, math.floor(value + 0.5))


def _needs_srgb(header: pyvips.Image) -> bool:
    if not header.get_typeof("icc-profile-data"):
        return False
    return icc_description(header.get("icc-profile-data")) not in _SRGB_PROFILES


def _halves(source: Path, upright_width: int, width: int) -> pyvips.Image:
    """libvips' shrink-on-load by the largest power of two that stays at least `width` wide."""
    shrink = 1
    while shrink < 8 and upright_width // (shrink * 2) >= width:
        shrink *= 2
    # Sequential: decoded strip by strip into the resize; random access would first decode
    # the whole image into a buffer of its own (a second full-size pass, ~20 % of the time).
    return pyvips.Image.jpegload(str(source), shrink=shrink, fail_on="none", access="sequential")


def _decode_with_vips(source: Path, width: int) -> pyvips.Image:
    # thumbnail() shrinks on load (JPEG DCT scaling, WebP/HEIF/TIFF pyramids) and applies EXIF
    # orientation. Colour is converted later, on the shrunk image: asking thumbnail() for an
    # output profile would convert the pre-shrunk image in float, at four times the cost.
    try:
        return pyvips.Image.thumbnail(str(source), width, height=_ANY_HEIGHT, size="down", fail_on="none")
    except pyvips.Error as exc:
        raise UndecodableImage(f"not a readable image: {_vips_reason(exc)}") from None


def _decode_heif(source: Path) -> pyvips.Image:
    # The libvips in pyvips-binary has no HEVC decoder: libheif through pillow-heif does it,
    # applying the container's rotation and mirroring (irot/imir) as it decodes.
    import pillow_heif

    try:
        heif = pillow_heif.open_heif(str(source), convert_hdr_to_8bit=True)
        mode = heif.mode
        data, stride, (w, h) = heif.data, heif.stride, heif.size
        icc = heif.info.get("icc_profile")
    except (ValueError, RuntimeError, OSError) as exc:
        raise UndecodableImage(f"not a readable HEIF image: {exc}") from None
    bands = {"RGB": 3, "RGBA": 4, "L": 1, "LA": 2}.get(mode)
    if bands is None:
        raise UndecodableImage(f"HEIF image in an unsupported pixel mode {mode}")
    image = _wrapped(_unstride(data, stride, w * bands, h), w, h, bands)
    if icc:
        image = image.copy()
        image.set_type(pyvips.GValue.blob_type, "icc-profile-data", icc)
    return image


def _image(pixels: Pixels) -> pyvips.Image:
    """`pixels` as a libvips image, not copied: the image and those made from it keep them."""
    rows, columns, bands = pixels.shape
    return _wrapped(pixels.data, columns, rows, bands)


def _pixels(image: pyvips.Image) -> Pixels:
    """The image computed into one buffer of its own."""
    data = image.write_to_memory()
    return np.frombuffer(data, dtype=np.uint8).reshape(image.height, image.width, image.bands)


def _wrapped(pixels: bytes | memoryview, width: int, height: int, bands: int) -> pyvips.Image:
    """A decoder's buffer as a libvips image, not copied. The image references the buffer (and
    a memoryview its exporter: pillow-heif's image, PyAV's plane), and so does every image made
    from it: _upright reads it through them before they go."""
    return pyvips.Image.new_from_memory(pixels, width, height, bands, "uchar")


def _unstride(data: bytes | memoryview, stride: int, row: int, height: int) -> bytes | memoryview:
    """The rows without their padding; the buffer itself when it has none."""
    if stride == row:
        return data
    view = memoryview(data)
    return b"".join(view[y * stride : y * stride + row] for y in range(height))


def _decode_video(source: Path) -> pyvips.Image:
    """The poster frame: the first frame that decodes, turned as the player shows it."""
    import av

    try:
        with av.open(str(source)) as container:
            if not container.streams.video:
                raise UndecodableImage("the video has no picture track")
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for frame in container.decode(stream):
                rotation = int(getattr(frame, "rotation", 0) or 0)
                rgb = frame.reformat(format="rgb24")
                plane = rgb.planes[0]
                pixels = _unstride(memoryview(plane), plane.line_size, rgb.width * 3, rgb.height)
                break
            else:
                raise UndecodableImage("the video has no decodable frame")
    except av.FFmpegError as exc:
        raise UndecodableImage(f"not a readable video: {exc}") from None
    return _rotate(_wrapped(pixels, rgb.width, rgb.height, 3), -rotation)


def _rotate(image: pyvips.Image, degrees: int) -> pyvips.Image:
    turn = degrees % 360
    if turn == 90:
        return image.rot90()
    if turn == 180:
        return image.rot180()
    if turn == 270:
        return image.rot270()
    return image


def _decode_raw(source: Path, width: int) -> pyvips.Image:
    """A RAW file's largest embedded JPEG preview, upright; else whatever libvips can read."""
    data = source.read_bytes()
    orientation = tiff_orientation(data)
    for preview in _jpeg_previews(data):
        try:
            image = pyvips.Image.thumbnail_buffer(
                preview, width, height=_ANY_HEIGHT, size="down", no_rotate=True
            )
            image = image.copy_memory()
        except pyvips.Error:
            continue
        return _orient(image, orientation)
    try:
        return _decode_with_vips(source, width)
    except UndecodableImage:
        raise UndecodableImage(
            "RAW file without a readable preview (no decoder for its sensor data)"
        ) from None


def _jpeg_previews(data: bytes, *, tries: int = 64) -> Iterator[bytes]:
    """Embedded JPEG streams, largest first (by their header's pixel count).

    Sensor data can hold the JPEG start bytes by chance: only the first `tries` are parsed,
    each from its first 256 KiB (the header is near the start).
    """
    found: list[tuple[int, int]] = []
    start = data.find(b"\xff\xd8\xff")
    while start != -1 and tries > 0:
        tries -= 1
        try:
            header = pyvips.Image.new_from_buffer(data[start : start + 256 * 1024], "")
            found.append((header.width * header.height, start))
        except pyvips.Error:
            pass
        start = data.find(b"\xff\xd8\xff", start + 3)
    for _, offset in sorted(found, key=lambda item: -item[0]):
        yield data[offset:]


def _orient(image: pyvips.Image, orientation: int) -> pyvips.Image:
    """Apply an EXIF orientation (1-8) the way libvips does for files that carry it."""
    if orientation == 1:
        return image
    image = image.copy()
    image.set_type(pyvips.GValue.gint_type, "orientation", orientation)
    return image.autorot()


def _to_srgb(image: pyvips.Image) -> pyvips.Image:
    """Pixels converted from the embedded ICC profile (Display P3, Adobe RGB…) to sRGB."""
    if not _needs_srgb(image):
        return image
    try:
        return image.icc_transform("srgb", embedded=True, input_profile="srgb")
    except pyvips.Error:
        return image  # a broken profile: keep the pixels as they are


def _finish(image: pyvips.Image, width: int) -> pyvips.Image:
    """Shrink to `width` (never up), 8-bit sRGB or grey without alpha (computed when read)."""
    if image.width > width:
        image = image.thumbnail_image(width, height=_ANY_HEIGHT, size="down")
    image = _to_srgb(image)
    if image.hasalpha():
        image = image.flatten(background=[255] * (image.bands - 1))
    if image.interpretation not in ("srgb", "b-w"):
        image = image.colourspace("srgb")
    if image.format != "uchar":
        image = image.cast("uchar")
    return image


def _downscale_chain(largest: Pixels, widths: Iterable[int]) -> dict[int, Pixels]:
    """Each width from the next larger image already made (never upscaled)."""
    made: dict[int, Pixels] = {}
    current = largest
    for width in widths:
        columns = current.shape[1]
        if columns > width:
            current = _pixels(_image(current).resize(width / columns, kernel="lanczos3"))
        made[width] = current
    return made


def _jpeg(pixels: Pixels, quality: int) -> bytes:
    # No Huffman optimisation: measured on the fixtures it saves 1.3 % of bytes for 15 % more CPU.
    # Chroma halved below quality 90, as libvips' jpegsave does by default.
    if pixels.shape[2] == 1:
        data: bytes = simplejpeg.encode_jpeg(pixels, quality, "GRAY", "Gray")
    else:
        data = simplejpeg.encode_jpeg(pixels, quality, "RGB", "420" if quality < 90 else "444")
    return data


def _avif(pixels: Pixels, quality: int) -> bytes:
    # Effort 0, libaom's fastest: ~25 ms for 640 px on one core. Effort 1 saves 8 % of the bytes
    # of photos for three times the CPU.
    data: bytes = _image(pixels).heifsave_buffer(Q=quality, compression="av1", effort=0, keep=0)
    return data


def _vips_reason(exc: pyvips.Error) -> str:
    detail = (exc.detail or exc.message or "").strip().splitlines()
    return (detail[0] if detail else str(exc))[:300]
