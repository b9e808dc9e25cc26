"""The shapes a device sends: photo metadata records and album structures."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

from image_assistant.errors import BadRequest, Unprocessable

MAX_BATCH = 100
SHA256_PATTERN = r"^[0-9a-fA-F]{64}$"
# A plain file name: no slash, backslash or NUL, and not "." or "..".
FILE_NAME_PATTERN = r"^(?:[^/\\\x00.][^/\\\x00]*|\.[^/\\\x00.][^/\\\x00]*|\.\.[^/\\\x00]+)?$"
CONTENT_TYPE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9.+-]*/[A-Za-z0-9][A-Za-z0-9.+-]*$"
# Any text a client sends: PostgreSQL refuses a NUL in text (SQLite would keep it).
NO_NUL_PATTERN = r"^[^\x00]*$"
MAX_BIGINT = 2**63 - 1  # what a BIGINT column holds on SQLite and PostgreSQL
# What a client reads when a field does not match its pattern (pydantic would print the regex).
PATTERN_MESSAGES = {
    SHA256_PATTERN: "must be 64 hex digits",
    FILE_NAME_PATTERN: "must be a plain file name without slashes",
    CONTENT_TYPE_PATTERN: "must look like type/subtype",
    NO_NUL_PATTERN: "must not contain a NUL character",
}
_SHA256 = re.compile(SHA256_PATTERN)

# Checked by pydantic itself (no Python call per field): a batch validates 5x faster.
Sha256 = Annotated[str, StringConstraints(pattern=SHA256_PATTERN, to_lower=True)]
FileName = Annotated[str, StringConstraints(max_length=512, pattern=FILE_NAME_PATTERN)]
ContentType = Annotated[str, StringConstraints(max_length=128, pattern=CONTENT_TYPE_PATTERN, to_lower=True)]
# Text people typed: bounded, and no NUL (PostgreSQL refuses it in text).
NO_NUL_PATTERN = r"^[^\x00]*$"
PATTERN_MESSAGES[NO_NUL_PATTERN] = "must not contain NUL characters"
Title = Annotated[str, StringConstraints(max_length=1024, pattern=NO_NUL_PATTERN)]
Description = Annotated[str, StringConstraints(max_length=65_536, pattern=NO_NUL_PATTERN)]
Name = Annotated[str, StringConstraints(max_length=256, pattern=NO_NUL_PATTERN)]
MAX_KEYWORDS = 1000
MAX_PERSONS = 1000
SUBTYPES = (
    "screenshot",
    "selfie",
    "panorama",
    "portrait",
    "slow_mo",
    "time_lapse",
    "live",
    "burst",
    "raw",
)
Subtype = Literal[
    "screenshot", "selfie", "panorama", "portrait", "slow_mo", "time_lapse", "live", "burst", "raw"
]


_HYPHENATED_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def canonical_photos_uuid(value: str) -> str:
    """Photos.app ids are UUIDs; we keep them upper-case, as Photos.app writes them."""
    if isinstance(value, str) and _HYPHENATED_UUID.fullmatch(value):
        return value.upper()  # the usual form, without building a UUID
    try:
        return str(uuid.UUID(value)).upper()
    except (ValueError, AttributeError, TypeError) as exc:
        raise ValueError("must be a UUID") from exc


def check_sha256(value: str) -> str:
    if not _SHA256.match(value):
        raise ValueError("must be 64 hex digits")
    return value.lower()


def text(*, max_length: int, min_length: int = 0, **field: Any) -> Any:
    """A text field of a request: bounded, and without NUL characters."""
    return Field(min_length=min_length, max_length=max_length, pattern=NO_NUL_PATTERN, **field)


_FIRST_INSTANT = datetime(1, 1, 2, tzinfo=UTC)
_LAST_INSTANT = datetime(9999, 12, 30, tzinfo=UTC)


def representable(value: datetime) -> datetime:
    """An aware datetime that has a UTC instant within the years 1-9999 (both columns' range)."""
    if 1 < value.year < 9999:
        return value  # an offset is less than a day: its instant is well within the range
    try:
        at = value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of range") from None
    if not _FIRST_INSTANT <= at <= _LAST_INSTANT:
        raise ValueError("is out of range")
    return value


Model = TypeVar("Model", bound=BaseModel)


def parse_json(raw: bytes, model: type[Model]) -> Model:
    """Validate a JSON body; malformed JSON is 400, wrong fields are 422."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        if any(error["type"] == "json_invalid" for error in exc.errors()):
            raise BadRequest("the body is not valid JSON", code="malformed_json") from exc
        raise unprocessable(exc) from exc


def unprocessable(exc: ValidationError) -> Unprocessable:
    return Unprocessable("the request body is not valid", details=validation_details(exc.errors()))


def validation_details(errors: Any) -> list[dict[str, Any]]:
    """Where and why, without echoing the input back (it may hold a password)."""
    return [{"loc": [str(part) for part in e.get("loc", ())], "message": _message(e)} for e in errors]


def _message(error: Any) -> str:
    if error.get("type") == "string_pattern_mismatch":
        return PATTERN_MESSAGES.get(error.get("ctx", {}).get("pattern"), "has the wrong form")
    return str(error.get("msg", "invalid"))


PhotosUuid = Annotated[str, Field(min_length=1, max_length=64)]


class Strict(BaseModel):
    """A device's payload: unknown fields and loose types ("1" for 1, "true" for true) are refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False, strict=True)


# The facts a record carries beside its file metadata (columns of `photos` of the same names).
FACT_FIELDS = (
    "title",
    "description",
    "keywords",
    "persons",
    "place",
    "camera",
    "subtypes",
    "burst_id",
    "burst_key",
)


class Place(Strict):
    """Photos' reverse geocoding of where a photo was taken."""

    name: Name
    city: Name | None = None
    country: Name | None = None


class Camera(Strict):
    """What took the photo (EXIF): shutter in seconds, focal length in mm; any may be unknown."""

    make: Name | None = None
    model: Name | None = None
    lens: Name | None = None
    iso: int | None = Field(default=None, ge=0, le=10_000_000)
    aperture: float | None = Field(default=None, ge=0, le=1000)
    shutter: float | None = Field(default=None, ge=0, le=100_000)
    focal_length: float | None = Field(default=None, ge=0, le=100_000)


class PhotoRecord(Strict):
    photos_uuid: PhotosUuid
    filename: FileName = ""
    content_type: ContentType = "application/octet-stream"
    media_type: Literal["photo", "video", "live"] = "photo"
    width: int | None = Field(default=None, ge=0, le=1_000_000)
    height: int | None = Field(default=None, ge=0, le=1_000_000)
    file_size: int | None = Field(default=None, ge=0, le=MAX_BIGINT)
    taken_at: datetime | None = None
    location_lat: float | None = Field(default=None, ge=-90, le=90)
    location_lng: float | None = Field(default=None, ge=-180, le=180)
    is_favorite: bool = False
    is_hidden: bool = False
    checksum_sha256: Sha256 | None = None
    timezone: str | None = text(default=None, max_length=64)
    edited_sha256: Sha256 | None = None
    edited_filename: FileName = ""
    live_video_sha256: Sha256 | None = None
    live_video_filename: FileName = ""
    raw_sha256: Sha256 | None = None
    raw_filename: FileName = ""
    edited_live_video_sha256: Sha256 | None = None
    edited_live_video_filename: FileName = ""
    # The facts in Photos; absent means none (each record says the photo's whole state).
    title: Title | None = None
    description: Description | None = None
    keywords: list[Name] = Field(default_factory=list, max_length=MAX_KEYWORDS)
    persons: list[Name] = Field(default_factory=list, max_length=MAX_PERSONS)
    place: Place | None = None
    camera: Camera | None = None
    subtypes: list[Subtype] = Field(default_factory=list, max_length=len(SUBTYPES))
    burst_id: (
        Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=NO_NUL_PATTERN)] | None
    ) = None
    burst_key: bool = False

    _uuid = field_validator("photos_uuid")(canonical_photos_uuid)

    @field_validator("subtypes")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("names a subtype twice")
        return value

    @field_validator("taken_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        return representable(value if value.tzinfo is not None else value.replace(tzinfo=UTC))


class PhotoBatch(Strict):
    photos: list[PhotoRecord] = Field(min_length=1, max_length=MAX_BATCH)


class DeletedPhotos(Strict):
    """photos_uuids no longer in the device's library: hidden from the gallery, files kept."""

    photos_uuids: list[PhotosUuid] = Field(min_length=1, max_length=1000)

    @field_validator("photos_uuids")
    @classmethod
    def _uuids(cls, value: list[str]) -> list[str]:
        return [canonical_photos_uuid(v) for v in value]


class AlbumRecord(Strict):
    photos_uuid: PhotosUuid
    title: str = text(max_length=512)
    album_type: Literal["user", "smart", "favorites", "shared"] = "user"
    folder_path: list[Annotated[str, text(max_length=512)]] = Field(default_factory=list, max_length=32)
    photos: list[PhotosUuid] = Field(default_factory=list, max_length=200_000)

    _uuid = field_validator("photos_uuid")(canonical_photos_uuid)

    @field_validator("photos")
    @classmethod
    def _photos(cls, value: list[str]) -> list[str]:
        photos = [canonical_photos_uuid(v) for v in value]
        if len(set(photos)) != len(photos):
            raise ValueError("lists a photo more than once")
        return photos


class AlbumSync(Strict):
    albums: list[AlbumRecord] = Field(max_length=10_000)
    complete: bool = True
