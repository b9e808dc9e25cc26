"""Object keys, built only from validated ids, and the check every adapter applies."""

from __future__ import annotations

import re
import uuid

from image_assistant.errors import InvalidKey

THUMBNAIL_SIZES = {"small": 200, "medium": 600, "large": 1200, "avif400": 400, "avif640": 640}
# The grid's sizes between small and large, in AVIF (a third of a JPEG's bytes at the size): the
# page offers them to browsers that show AVIF, so a tile at ratio 2 or 3 gets what it shows. Made
# with the others; the reconciler's backfill makes them for photos thumbnailed before them.
AVIF_SIZES = ("avif400", "avif640")

_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
# What a whole key looks like (each segment as _SEGMENT, none with ".."), for documents.
KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}(/[A-Za-z0-9][A-Za-z0-9._-]{0,127})*$"
_EXTENSION = re.compile(r"^[a-z0-9]{1,10}$")


def validate_key(key: str) -> str:
    """Return `key` if it is a safe relative key, else raise InvalidKey."""
    if not key or len(key) > 1024:
        raise InvalidKey("object key is empty or too long")
    for segment in key.split("/"):
        if not _SEGMENT.fullmatch(segment) or ".." in segment:
            raise InvalidKey("object key has an unsafe segment")
    return key


def extension_of(filename: str | None) -> str:
    """Lower-case extension of a file name when it is a plain one, else `bin`."""
    if not filename or "." not in filename:
        return "bin"
    ext = filename.rsplit(".", 1)[1].lower()
    return ext if _EXTENSION.fullmatch(ext) else "bin"


# The extension Photos.app gives a file of each type in its originals folder (the type's preferred
# one: IMG_1.JPG is kept as <UUID>.jpeg), so a mounted originals tree matches the library's.
PHOTOS_EXTENSIONS = {
    "image/jpeg": "jpeg",
    "image/heic": "heic",
    "image/heif": "heif",
    "image/png": "png",
    "image/tiff": "tiff",
    "image/gif": "gif",
    "image/webp": "webp",
    "image/x-adobe-dng": "dng",
    "image/x-canon-cr2": "cr2",
    "image/x-canon-cr3": "cr3",
    "image/x-nikon-nef": "nef",
    "image/x-sony-arw": "arw",
    "video/quicktime": "mov",
    "video/mp4": "mp4",
    "video/x-m4v": "m4v",
}


def photos_extension(filename: str | None, content_type: str | None) -> str:
    """The extension Photos.app would use for this file: by its type, else its name's."""
    return PHOTOS_EXTENSIONS.get((content_type or "").lower()) or extension_of(filename)


def _shard(photos_uuid: str) -> str:
    canonical = str(uuid.UUID(photos_uuid)).upper()
    return f"{canonical[0]}/{canonical}"


def photo_file_key(
    prefix: str,
    owner_id: uuid.UUID,
    photos_uuid: str,
    filename: str | None,
    content_type: str | None = None,
    *,
    suffix: str = "",
) -> str:
    """`<prefix>/<owner>/<U[0]>/<UUID><suffix>.<ext>`: a file of a photo (originals/, edited/…),
    in the Photos.app layout under one owner (the extension Photos.app gives its type; a Live
    Photo's video is `<UUID>_3.mov` beside its photo)."""
    if suffix and not _SEGMENT.fullmatch(f"x{suffix}"):
        raise InvalidKey("unsafe key suffix")
    ext = photos_extension(filename, content_type)
    return validate_key(f"{prefix}/{owner_id}/{_shard(photos_uuid)}{suffix}.{ext}")


def thumbnail_key(owner_id: uuid.UUID, photos_uuid: str, size: str, *, of_original: bool = False) -> str:
    """`thumbs/<size>/<owner>/<U[0]>/<UUID>.jpg` (`.avif` for AVIF_SIZES): the thumbnail shown (of
    the edit when there is one); `of_original` the original's, kept beside an edit's at
    `thumbs/<size>-original/…`."""
    if size not in THUMBNAIL_SIZES:
        raise InvalidKey(f"unknown thumbnail size {size!r}")
    folder = f"{size}-original" if of_original else size
    ext = "avif" if size in AVIF_SIZES else "jpg"
    return validate_key(f"thumbs/{folder}/{owner_id}/{_shard(photos_uuid)}.{ext}")


def thumbnail_type(size: str) -> str:
    """The media type of a thumbnail size's files."""
    return "image/avif" if size in AVIF_SIZES else "image/jpeg"


RENDITION_FOLDERS = {
    "original": "playback",
    "live_video": "playback-live",
    "edited": "playback-edited",
    "edited_live_video": "playback-edited-live",
}


def rendition_key(owner_id: uuid.UUID, photos_uuid: str, source_kind: str) -> str:
    """`playback/<owner>/<U[0]>/<UUID>.mp4` (a video's), `playback-live/…` (a Live video's), and
    `playback-edited/…`, `playback-edited-live/…` (those of their edited versions)."""
    folder = RENDITION_FOLDERS.get(source_kind)
    if folder is None:
        raise InvalidKey(f"no rendition of {source_kind!r} files")
    return validate_key(f"{folder}/{owner_id}/{_shard(photos_uuid)}.mp4")


STAGING_PREFIX = "uploads/"


def staging_key(owner_id: uuid.UUID, upload_id: uuid.UUID) -> str:
    """`uploads/<owner>/<upload id>`: where a resumable upload's parts gather before it is checked."""
    return validate_key(f"{STAGING_PREFIX}{uuid.UUID(str(owner_id))}/{uuid.UUID(str(upload_id))}")


def staged_upload_id(key: str) -> uuid.UUID | None:
    """The upload id a staging key names, or None when the key is not one."""
    try:
        return uuid.UUID(key.rsplit("/", 1)[-1]) if key.startswith(STAGING_PREFIX) else None
    except ValueError:
        return None
