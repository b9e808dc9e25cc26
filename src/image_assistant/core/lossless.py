"""An `original-clean` of a JPEG without decoding it: its own entropy-coded data with every
metadata segment dropped, when it is upright and sRGB already. Plain Python: a zip of such
originals never loads libvips (thumbnails/vips.py).
"""

from __future__ import annotations

from image_assistant.thumbnails.formats import tiff_orientation

_KEEP_APP = (b"JFIF\x00", b"Adobe")  # APP0 JFIF (pixel density) and APP14 Adobe (colour transform)
_STANDALONE = {0x01, *range(0xD0, 0xD8)}


class NotLossless(Exception):
    """The JPEG needs its pixels changed (turned, or converted to sRGB): render it instead."""


def clean_jpeg(data: bytes | bytearray) -> list[bytes | memoryview]:
    """The JPEG `data` with every metadata segment dropped and nothing after its image, as
    pieces to write one after the other (the scan data is not copied).

    Raises NotLossless when the image is not upright sRGB already (an EXIF orientation other
    than 1, a colour profile other than sRGB, CMYK) or is damaged.
    """
    header = _header(data)
    if header is None:
        raise NotLossless("not a complete JPEG")
    kept, scan_start = header
    return [kept, memoryview(data)[scan_start : _end_of_image(data, scan_start)]]


def _end_of_image(data: bytes | bytearray, pos: int) -> int:
    """Where the image ends (after its EOI marker), walking the scans and the segments between
    them; what follows (an iPhone's depth or gain map, with their own metadata) is left out."""
    while True:
        pos = data.find(b"\xff", pos)
        if pos == -1 or pos + 1 >= len(data):
            raise NotLossless("the JPEG ends before its image does")
        marker = data[pos + 1]
        if marker == 0xD9:
            return pos + 2
        if marker == 0x00 or marker == 0xFF or marker in _STANDALONE:
            pos += 1 if marker == 0xFF else 2
            continue
        if pos + 4 > len(data):
            raise NotLossless("the JPEG ends before its image does")
        if 0xE0 <= marker <= 0xEF or marker == 0xFE:
            raise NotLossless("metadata between the scans")
        pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")


def _header(data: bytes | bytearray) -> tuple[bytes, int] | None:
    """The kept segments up to and including the first scan's header, and where the scan data
    starts; None when `data` does not reach that far yet."""
    if not data.startswith(b"\xff\xd8"):
        raise NotLossless("not a JPEG")
    kept = bytearray(b"\xff\xd8")
    icc = bytearray()
    pos = 2
    while True:
        if pos + 4 > len(data):
            return None
        if data[pos] != 0xFF:
            raise NotLossless("a damaged JPEG header")
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker in _STANDALONE:
            kept += data[pos : pos + 2]
            pos += 2
            continue
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        end = pos + 2 + length
        if end > len(data):
            return None
        body = data[pos + 4 : end]
        if 0xE0 <= marker <= 0xEF or marker == 0xFE:
            _inspect(marker, body, icc)
            if (marker == 0xE0 and body.startswith(b"JFIF\x00")) or (
                marker == 0xEE and body.startswith(b"Adobe")
            ):
                kept += data[pos:end]
        else:
            if marker in (0xC0, 0xC1, 0xC2) and body[5:6] not in (b"\x01", b"\x03"):
                raise NotLossless("not a grey or RGB JPEG")
            kept += data[pos:end]
        pos = end
        if marker == 0xDA:
            if icc and not _is_srgb(bytes(icc)):
                raise NotLossless("the colour profile is not sRGB")
            return bytes(kept), pos


def _inspect(marker: int, body: bytes | bytearray, icc: bytearray) -> None:
    if marker == 0xE1 and body.startswith(b"Exif\x00\x00") and tiff_orientation(bytes(body[6:])) != 1:
        raise NotLossless("the photo is turned by its EXIF orientation")
    if marker == 0xE2 and body.startswith(b"ICC_PROFILE\x00"):
        icc += body[14:]


def _is_srgb(profile: bytes) -> bool:
    return b"sRGB" in profile or "sRGB".encode("utf-16-be") in profile
