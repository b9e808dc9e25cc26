"""Export presets: the built-in platform sizes and the ones a user defines; file names they give."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from image_assistant.db.models import PublishPreset
from image_assistant.errors import Conflict, NotFound, Unprocessable

FIT, CROP, FULL = "fit", "crop", "full"
DEFAULT_PATTERN = "{set}-{n}"
MAX_EDGE = 12_000
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_TOKEN = re.compile(r"\{([a-z]+)\}")
PATTERN_TOKENS = ("set", "n", "date", "name", "preset")


@dataclass(frozen=True)
class Preset:
    """How one rendition is made: fit in a long edge, crop to an exact size, or full size."""

    name: str
    mode: str
    width: int  # the long edge for `fit`; unused for `full`
    height: int | None = None  # crop height
    quality: int = 85
    filename_pattern: str = DEFAULT_PATTERN
    builtin: bool = False

    @property
    def signature(self) -> str:
        """What the pixels depend on: a changed user preset never reuses an old rendition."""
        return f"{self.mode}-{self.width}x{self.height or 0}-q{self.quality}"

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "mode": self.mode,
            "width": self.width if self.mode != FULL else None,
            "height": self.height,
            "quality": self.quality,
            "filename_pattern": self.filename_pattern,
            "builtin": self.builtin,
        }


BUILTIN: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset("web-2048", FIT, 2048, quality=85, builtin=True),
        Preset("square-1080", CROP, 1080, 1080, quality=90, builtin=True),
        Preset("portrait-1080x1350", CROP, 1080, 1350, quality=90, builtin=True),
        Preset("story-1080x1920", CROP, 1080, 1920, quality=90, builtin=True),
        Preset("original-clean", FULL, 0, quality=95, builtin=True),
    )
}


def _from_row(row: PublishPreset) -> Preset:
    return Preset(row.name, row.mode, row.width, row.height, row.quality, row.filename_pattern)


def list_presets(db: DbSession, *, user_id: uuid.UUID) -> list[Preset]:
    own = db.scalars(
        select(PublishPreset).where(PublishPreset.user_id == user_id).order_by(PublishPreset.name)
    )
    return [*BUILTIN.values(), *(_from_row(r) for r in own)]


def resolve(db: DbSession, *, user_id: uuid.UUID, name: str) -> Preset:
    """The preset of this name (built-in, or the user's own); 422 when there is none."""
    if name in BUILTIN:
        return BUILTIN[name]
    row = db.scalar(select(PublishPreset).where(PublishPreset.user_id == user_id, PublishPreset.name == name))
    if row is None:
        names = ", ".join(p.name for p in list_presets(db, user_id=user_id))
        raise Unprocessable(f"unknown preset {name!r}; one of: {names}", code="unknown_preset")
    return _from_row(row)


def validate(
    *, name: str, mode: str, width: int, height: int | None, quality: int, filename_pattern: str
) -> Preset:
    """A user's preset as given, or 422 saying which field is wrong."""
    if not _NAME.match(name):
        raise Unprocessable("name must be 1-64 lower-case letters, digits or -", code="invalid_preset")
    if name in BUILTIN:
        raise Conflict(f"{name!r} is a built-in preset", code="preset_exists")
    if mode not in (FIT, CROP):
        raise Unprocessable("mode must be fit (long edge) or crop (exact size)", code="invalid_preset")
    if not 16 <= width <= MAX_EDGE:
        raise Unprocessable(f"width must be 16-{MAX_EDGE}", code="invalid_preset")
    if mode == CROP and (height is None or not 16 <= height <= MAX_EDGE):
        raise Unprocessable(f"a crop needs a height of 16-{MAX_EDGE}", code="invalid_preset")
    if not 1 <= quality <= 100:
        raise Unprocessable("quality must be 1-100", code="invalid_preset")
    check_pattern(filename_pattern)
    return Preset(name, mode, width, height if mode == CROP else None, quality, filename_pattern)


def check_pattern(pattern: str) -> str:
    unknown = sorted({t for t in _TOKEN.findall(pattern) if t not in PATTERN_TOKENS})
    if not pattern or len(pattern) > 200 or unknown or "{n}" not in pattern:
        raise Unprocessable(
            "filename_pattern needs {n} and may use " + ", ".join(f"{{{t}}}" for t in PATTERN_TOKENS),
            code="invalid_preset",
            details={"unknown": unknown} if unknown else None,
        )
    return pattern


def create(db: DbSession, *, user_id: uuid.UUID, preset: Preset) -> Preset:
    exists = select(PublishPreset.id).where(
        PublishPreset.user_id == user_id, PublishPreset.name == preset.name
    )
    if db.scalar(exists) is not None:
        raise Conflict(f"you already have a preset {preset.name!r}", code="preset_exists")
    db.add(
        PublishPreset(
            user_id=user_id,
            name=preset.name,
            mode=preset.mode,
            width=preset.width,
            height=preset.height,
            quality=preset.quality,
            filename_pattern=preset.filename_pattern,
        )
    )
    db.flush()
    return preset


def delete(db: DbSession, *, user_id: uuid.UUID, name: str) -> None:
    row = db.scalar(select(PublishPreset).where(PublishPreset.user_id == user_id, PublishPreset.name == name))
    if row is None:
        raise NotFound("no such preset of yours", code="preset_not_found")
    db.delete(row)


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def slug(text: str) -> str:
    return _UNSAFE.sub("-", text.strip()).strip("-.").lower()[:80] or "photo"


def file_name(
    preset: Preset, *, set_title: str, number: int, count: int, taken_at: datetime | None, original: str
) -> str:
    """`shoot-2026-11-01-01.jpg`: the preset's pattern filled in, safe as a zip entry name."""
    values = {
        "set": slug(set_title),
        "n": str(number).zfill(max(2, len(str(count)))),
        "date": taken_at.strftime("%Y-%m-%d") if taken_at else "undated",
        "name": slug(original.rsplit(".", 1)[0]) if original else "photo",
        "preset": preset.name,
    }
    stem = _TOKEN.sub(lambda m: values.get(m.group(1), ""), preset.filename_pattern)
    return f"{slug(stem)}.jpg"
