"""What a file is, read from its first bytes (and its extension, for RAW), and the EXIF
orientation in a TIFF header: plain Python, no decoder loaded (thumbnails/vips.py says why).
"""

from __future__ import annotations

import struct
from pathlib import Path

from image_assistant.errors import Unprocessable

_RAW_EXTENSIONS = {"dng", "cr2", "cr3", "nef", "nrw", "arw", "srf", "sr2", "raf", "orf", "rw2", "pef", "srw"}
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"mif2"}
_AVIF_BRANDS = {b"avif", b"avis"}
_RAW_BRANDS = {b"crx "}


class UndecodableImage(Unprocessable):
    """The original could not be decoded into an image; the message says why."""

    code = "undecodable_image"


def sniff(source: Path) -> str:
    """What decoder a file needs, from its first bytes (and extension, for RAW).

    One of jpeg, heif, raw, video, or vips (anything else libvips reads).
    """
    with source.open("rb") as handle:
        head = handle.read(64)
    extension = source.suffix.lower().lstrip(".")
    if head[4:8] == b"ftyp":
        brands = _ftyp_brands(head)
        if brands & _RAW_BRANDS:
            return "raw"
        if brands & _AVIF_BRANDS:
            return "vips"
        if brands & _HEIF_BRANDS:
            return "heif"
        return "video"
    if head.startswith(b"\x1a\x45\xdf\xa3") or (head.startswith(b"RIFF") and head[8:12] == b"AVI "):
        return "video"
    if extension in _RAW_EXTENSIONS:
        return "raw"
    if head[:4] in (b"II*\x00", b"MM\x00*") and head[8:10] == b"CR":
        return "raw"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    return "vips"


def _ftyp_brands(head: bytes) -> set[bytes]:
    size = int.from_bytes(head[0:4], "big")
    brands = {head[8:12]}
    for offset in range(16, min(size, len(head)) - 3, 4):
        brands.add(head[offset : offset + 4])
    return brands


def tiff_orientation(data: bytes) -> int:
    """The Orientation tag (1-8) of a TIFF-based file's first IFD, 1 when absent."""
    order = {b"II": "<", b"MM": ">"}.get(data[:2])
    if order is None or len(data) < 8:
        return 1
    (ifd,) = struct.unpack(order + "I", data[4:8])
    if ifd + 2 > len(data):
        return 1
    (count,) = struct.unpack(order + "H", data[ifd : ifd + 2])
    for index in range(min(count, 512)):
        entry = ifd + 2 + index * 12
        if entry + 12 > len(data):
            break
        tag, kind, _, value = struct.unpack(order + "HHIH", data[entry : entry + 10])
        if tag == 0x0112 and kind == 3:
            return value if 1 <= value <= 8 else 1
    return 1


def icc_description(profile: bytes) -> str:
    """The name an ICC profile gives itself (its 'desc' tag, v2 text or v4 Unicode), or ""."""
    try:
        (count,) = struct.unpack_from(">I", profile, 128)
        for index in range(min(count, 100)):
            signature, offset, size = struct.unpack_from(">4sII", profile, 132 + 12 * index)
            if signature == b"desc":
                return _icc_text(profile[offset : offset + size])
    except struct.error:
        pass
    return ""


def _icc_text(tag: bytes) -> str:
    if tag[:4] == b"desc":  # textDescriptionType: ASCII with its length, NUL-terminated
        (length,) = struct.unpack_from(">I", tag, 8)
        return tag[12 : 12 + length].split(b"\0")[0].decode("ascii", errors="replace")
    if tag[:4] == b"mluc":  # multiLocalizedUnicodeType: the first record, UTF-16BE
        length, offset = struct.unpack_from(">II", tag, 20)
        return tag[offset : offset + length].decode("utf-16-be", errors="replace")
    return ""
