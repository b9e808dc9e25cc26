"""Renditions: a photo made ready for a platform (fit, crop around the focal point, or full size).

Each source is decoded once, shrunk on load to the largest size any preset asked for, upright
and in sRGB; every preset is cut from that image. Renditions carry no metadata at all (no EXIF,
GPS, XMP, IPTC, no profile: sRGB is what a JPEG without one means) and are never upscaled: a
source smaller than a preset gives a smaller file, and `Rendition.short_of` says so.
An `original-clean` of a JPEG that is upright and sRGB already is its own entropy-coded data
with every metadata segment dropped (core/lossless.py): no decode, no loss, at the speed of
reading it. Importing this module loads libvips (thumbnails/vips.py): import it where a photo
is rendered.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from image_assistant.core.lossless import NotLossless, clean_jpeg
from image_assistant.core.presets import CROP, FIT, FULL, Preset
from image_assistant.core.publish import FocalPoint
from image_assistant.thumbnails.formats import UndecodableImage, sniff
from image_assistant.thumbnails.render import decode
from image_assistant.thumbnails.vips import pyvips

_ANY = 10_000_000


@dataclass(frozen=True)
class Rendition:
    data: bytes
    width: int
    height: int
    short_of: tuple[int, int] | None = None  # the size asked for, when the source was too small


def upright_size(source: Path) -> tuple[int, int]:
    """The source's width and height as shown (EXIF orientation applied), read from its header."""
    kind = sniff(source)
    try:
        if kind == "heif":
            import pillow_heif

            width, height = pillow_heif.open_heif(str(source), convert_hdr_to_8bit=True).size
            return int(width), int(height)
        if kind in ("jpeg", "vips"):
            header = pyvips.Image.new_from_file(str(source), fail_on="none")
            turned = header.get_typeof("orientation") and header.get("orientation") in (5, 6, 7, 8)
            return (header.height, header.width) if turned else (header.width, header.height)
    except (pyvips.Error, ValueError, RuntimeError, OSError) as exc:
        raise UndecodableImage(f"not a readable image: {exc}") from None
    image = decode(source, _ANY)
    return image.width, image.height


def _scale(preset: Preset, width: int, height: int) -> float:
    """How much a preset shrinks a source of this size (at most 1: never up)."""
    if preset.mode == FIT:
        return min(1.0, preset.width / max(width, height))
    if preset.mode == CROP:
        assert preset.height is not None
        return min(1.0, max(preset.width / width, preset.height / height))
    return 1.0


def render(source: Path, presets: Sequence[Preset], focal: FocalPoint | None = None) -> dict[str, Rendition]:
    """Each preset's rendition of the file at `source`, from one decode (the cascade); an
    original-clean of an upright sRGB JPEG is made without decoding it."""
    focal = focal or FocalPoint()
    width, height = upright_size(source)
    made: dict[str, Rendition] = {}
    cut = []
    for preset in presets:
        clean = _lossless(source, width, height) if preset.mode == FULL else None
        if clean is not None:
            made[preset.name] = clean
        else:
            cut.append(preset)
    if not cut:
        return made
    decode_width = max(math.ceil(width * _scale(p, width, height)) for p in cut)
    try:
        image = decode(source, decode_width)
        made.update({p.name: _cut(image, p, focal) for p in cut})
    except pyvips.Error as exc:
        raise UndecodableImage(f"could not render: {(exc.message or '').strip()[:200]}") from None
    return made


def _lossless(source: Path, width: int, height: int) -> Rendition | None:
    if sniff(source) != "jpeg":
        return None
    try:
        return Rendition(b"".join(clean_jpeg(source.read_bytes())), width, height)
    except NotLossless:
        return None


def _cut(image: pyvips.Image, preset: Preset, focal: FocalPoint) -> Rendition:
    short_of: tuple[int, int] | None = None
    if preset.mode == FIT:
        if max(image.width, image.height) > preset.width:
            image = image.thumbnail_image(preset.width, height=preset.width, size="down")
        elif max(image.width, image.height) < preset.width:
            short_of = (preset.width, preset.width)
    elif preset.mode == CROP:
        assert preset.height is not None
        image, short_of = _crop(image, preset.width, preset.height, focal)
    data: bytes = image.jpegsave_buffer(Q=preset.quality, keep=0, subsample_mode="auto")
    return Rendition(data, image.width, image.height, short_of)


def _crop(
    image: pyvips.Image, width: int, height: int, focal: FocalPoint
) -> tuple[pyvips.Image, tuple[int, int] | None]:
    """Cover width x height, then cut it around the focal point; too small a source is cut to
    the same aspect at its own resolution instead of being enlarged."""
    scale = max(width / image.width, height / image.height)
    short_of = None
    if scale < 1.0:
        image = image.resize(scale, kernel="lanczos3")
    elif scale > 1.0:
        short_of = (width, height)
        fit = min(image.width / width, image.height / height)
        width, height = max(1, math.floor(width * fit)), max(1, math.floor(height * fit))
    width, height = min(width, image.width), min(height, image.height)
    left = _clamp(round(focal.x * image.width - width / 2), image.width - width)
    top = _clamp(round(focal.y * image.height - height / 2), image.height - height)
    return image.crop(left, top, width, height).copy_memory(), short_of


def _clamp(value: int, most: int) -> int:
    return max(0, min(value, most))
