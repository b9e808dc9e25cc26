"""Tables of DESIGN.md: users, sessions, devices, albums, album_photos, photos, photo_files,
playback_renditions, month_counts, sync_logs, publish_sets, publish_set_photos, publish_presets, shares."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every engine (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map: dict[Any, Any] = {datetime: UTCDateTime(), dict[str, Any]: JSON}


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class User(Timestamped, Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled_at: Mapped[datetime | None]
    last_sign_in_at: Mapped[datetime | None]


class Session(Base):
    """A signed-in browser or API client; revoked on sign-out."""

    __tablename__ = "sessions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime | None]
    client: Mapped[str] = mapped_column(String(255), default="", server_default="")
    address: Mapped[str] = mapped_column(String(64), default="", server_default="")


class AccountLink(Base):
    """A one-time link that lets a person set their password: an invitation or a reset.

    Only the SHA-256 of the link's token is kept; the token itself is shown once.
    """

    __tablename__ = "account_links"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))  # "invitation" or "reset"
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class ServerSetup(Base):
    """The first-run setup code's hash, while no account exists (one row, id 1)."""

    __tablename__ = "server_setup"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Device(Timestamped, Base):
    __tablename__ = "devices"
    __table_args__ = (UniqueConstraint("user_id", "hardware_id", name="uq_devices_user_hardware"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    hardware_id: Mapped[str] = mapped_column(String(255))
    platform: Mapped[str] = mapped_column(String(64), default="")
    os_version: Mapped[str] = mapped_column(String(64), default="")
    verification_code: Mapped[str | None] = mapped_column(String(6))
    code_expires_at: Mapped[datetime | None]
    code_attempts: Mapped[int] = mapped_column(Integer, default=0)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    token_generation: Mapped[int] = mapped_column(Integer, default=0)
    last_sync_at: Mapped[datetime | None]
    # What a re-pair of an active device asks for; applied only when its code is verified (0011).
    pending_name: Mapped[str | None] = mapped_column(String(255))
    pending_platform: Mapped[str | None] = mapped_column(String(64))
    pending_os_version: Mapped[str | None] = mapped_column(String(64))


class PairingLock(Base):
    """Wrong pairing codes of one account in the current window (an hour from its first)."""

    __tablename__ = "pairing_locks"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    window_started_at: Mapped[datetime]
    wrong_codes: Mapped[int] = mapped_column(Integer, default=0)


# Keys compared by bytes on PostgreSQL (migration 0030): its collations other than "C" compare
# through strcoll; these hold UUIDs, state words and months, which sort the same either way.
BYTE_ORDERED_64 = String(64).with_variant(String(64, collation="C"), "postgresql")
BYTE_ORDERED_16 = String(16).with_variant(String(16, collation="C"), "postgresql")
BYTE_ORDERED_7 = String(7).with_variant(String(7, collation="C"), "postgresql")


class Photo(Timestamped, Base):
    __tablename__ = "photos"
    __table_args__ = (
        UniqueConstraint("user_id", "photos_uuid", name="uq_photos_user_photos_uuid"),
        Index("ix_photos_timeline", "user_id", "sort_at", "id"),
        Index("ix_photos_thumbnail_status", "thumbnail_status"),
        # Only bursts' frames (migration 0029): every query through it names a burst.
        Index(
            "ix_photos_burst",
            "user_id",
            "burst_id",
            postgresql_where=text("burst_id IS NOT NULL"),
            sqlite_where=text("burst_id IS NOT NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    device_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), index=True)
    photos_uuid: Mapped[str] = mapped_column(BYTE_ORDERED_64)
    filename: Mapped[str] = mapped_column(String(512), default="")
    content_type: Mapped[str] = mapped_column(String(128), default="application/octet-stream")
    media_type: Mapped[str] = mapped_column(String(8), default="photo")
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    file_size: Mapped[int | None] = mapped_column(BigInteger)
    taken_at: Mapped[datetime | None]
    taken_tz_offset: Mapped[int | None] = mapped_column(Integer)
    timezone: Mapped[str | None] = mapped_column(String(64))  # e.g. Europe/Paris, when the device knows
    sort_at: Mapped[datetime]
    location_lat: Mapped[float | None] = mapped_column(Float)
    location_lng: Mapped[float | None] = mapped_column(Float)
    is_favorite: Mapped[bool] = mapped_column(Boolean, default=False)
    is_hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    # The original's SHA-256 as the device declares it; photo_files holds what is stored.
    checksum_sha256: Mapped[str | None] = mapped_column(String(64))
    thumbnail_small_key: Mapped[str | None] = mapped_column(String(1024))
    thumbnail_medium_key: Mapped[str | None] = mapped_column(String(1024))
    thumbnail_large_key: Mapped[str | None] = mapped_column(String(1024))
    # The AVIF sizes (store/keys.py AVIF_SIZES) are made, at keys that follow from the photo's (0028).
    thumbnail_avif: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    thumbnail_status: Mapped[str] = mapped_column(BYTE_ORDERED_16, default="pending")
    thumbnail_error: Mapped[str | None] = mapped_column(Text)
    # Bookkeeping of the thumbnail job (migration 0002): the reconciler reads these.
    thumbnail_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    thumbnail_queued_at: Mapped[datetime | None]
    thumbnail_started_at: Mapped[datetime | None]
    # The stored file the thumbnails are (to be) made from, and its SHA-256 (migration 0005).
    thumbnail_source_key: Mapped[str | None] = mapped_column(String(1024))
    thumbnail_source_sha256: Mapped[str | None] = mapped_column(String(64))
    search_text: Mapped[str | None] = mapped_column(Text)  # folded words, see core/search.py (0020)
    # The thumbnails show the edited version; the original's are kept too (migration 0012).
    thumbnail_of_edit: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Removed from the device's library (or by hand): kept, listed with ?deleted=true, restorable.
    deleted_at: Mapped[datetime | None]
    # The facts in Photos (migration 0006): what people typed, the place, camera, subtypes.
    title: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    persons: Mapped[list[str]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    place: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))  # name, city, country
    camera: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    subtypes: Mapped[list[str]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    # Frames of one burst share burst_id; burst_key marks the picked (key) frames.
    burst_id: Mapped[str | None] = mapped_column(String(64))
    burst_key: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class MonthCount(Base):
    """How many items of a user's library each UTC month holds, for the timeline scrubber
    (migration 0021): photos neither hidden nor removed, a burst once, in its lead frame's
    month. Kept in step by core/months.py."""

    __tablename__ = "month_counts"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    month: Mapped[str] = mapped_column(BYTE_ORDERED_7, primary_key=True)  # "YYYY-MM"
    photo_count: Mapped[int] = mapped_column(Integer, default=0)


class Album(Timestamped, Base):
    __tablename__ = "albums"
    __table_args__ = (UniqueConstraint("user_id", "photos_uuid", name="uq_albums_user_photos_uuid"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    device_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), index=True)
    photos_uuid: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(512))
    album_type: Mapped[str] = mapped_column(String(16), default="user")
    folder_path: Mapped[list[str]] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)
    photo_count: Mapped[int] = mapped_column(Integer, default=0)


class AlbumPhoto(Base):
    __tablename__ = "album_photos"
    __table_args__ = (Index("ix_album_photos_order", "album_id", "position"),)

    album_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("albums.id", ondelete="CASCADE"), primary_key=True)
    photo_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("photos.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer)


class SyncLog(Base):
    __tablename__ = "sync_logs"
    __table_args__ = (Index("ix_sync_logs_device_started", "device_id", "started_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    device_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    sync_type: Mapped[str] = mapped_column(String(16))
    photos_synced: Mapped[int] = mapped_column(Integer, default=0)
    albums_synced: Mapped[int] = mapped_column(Integer, default=0)
    created_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_count: Mapped[int] = mapped_column(Integer, default=0)
    unchanged_count: Mapped[int] = mapped_column(Integer, default=0)
    bytes_received: Mapped[int] = mapped_column(BigInteger, default=0)
    errors_count: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]


class PhotoFile(Base):
    """One file of a photo: its original, edited version, Live video… (`kind`, see core.files).

    A file is wanted once the device declares its SHA-256 (`declared_sha256`; an original's
    declaration is `photos.checksum_sha256`) and stored once an object is at `object_key`
    with `sha256` and `size`. It is pending while nothing is stored or the stored checksum
    is not the declared one.
    """

    __tablename__ = "photo_files"

    photo_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("photos.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(24), primary_key=True)
    filename: Mapped[str] = mapped_column(String(512), default="")
    content_type: Mapped[str] = mapped_column(String(128), default="application/octet-stream")
    declared_sha256: Mapped[str | None] = mapped_column(String(64))
    object_key: Mapped[str | None] = mapped_column(String(1024))
    sha256: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None] = mapped_column(BigInteger)
    stored_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def state(self) -> str:
        """`pending` (declared, not stored), `outdated` (an older version stored) or `stored`."""
        if self.object_key is None:
            return "pending"
        if self.declared_sha256 is not None and self.declared_sha256 != self.sha256:
            return "outdated"
        return "stored"


class PhotoSidecar(Base):
    """The sidecar document last written beside a photo's original (`<key>.json`, core.sidecars):
    its key and SHA-256, so a sweep rewrites only the documents whose content changed."""

    __tablename__ = "photo_sidecars"

    photo_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("photos.id", ondelete="CASCADE"), primary_key=True)
    object_key: Mapped[str] = mapped_column(String(1024))
    sha256: Mapped[str] = mapped_column(String(64))
    written_at: Mapped[datetime] = mapped_column(default=utcnow)


class PlaybackRendition(Base):
    """A file the server derives from one of a photo's files for browsers: the playback MP4
    (H.264/AAC) of a video or a Live video, original or edited (`kind` is the source file's kind:
    original, live_video, edited, edited_live_video).

    States: pending → processing → completed | failed, or `not_needed` when browsers play the
    source as it is. Attempts are counted here as a photo's thumbnail attempts are.
    """

    __tablename__ = "playback_renditions"
    __table_args__ = (Index("ix_playback_renditions_status", "status"),)

    photo_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("photos.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(24), primary_key=True)
    source_key: Mapped[str] = mapped_column(String(1024))
    source_sha256: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    object_key: Mapped[str | None] = mapped_column(String(1024))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    queued_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ResumableUpload(Base):
    """An upload in parts that survives disconnects; its bytes wait as parts until complete."""

    __tablename__ = "resumable_uploads"
    __table_args__ = (Index("ix_resumable_uploads_target", "user_id", "photos_uuid", "kind"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    device_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    photos_uuid: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(24))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    received: Mapped[int] = mapped_column(BigInteger, default=0)
    # The store's id of the multipart object gathering the parts (S3 UploadId), when it has one.
    multipart_id: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PublishSet(Timestamped, Base):
    """A named, ordered pick of a user's photos to publish (a photo can be in several)."""

    __tablename__ = "publish_sets"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")


class PublishSetPhoto(Base):
    """A photo's place in a set, with the focal point its crops keep (0-1 of width and height)."""

    __tablename__ = "publish_set_photos"
    __table_args__ = (Index("ix_publish_set_photos_order", "set_id", "position"),)

    set_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("publish_sets.id", ondelete="CASCADE"), primary_key=True
    )
    photo_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("photos.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    focal_x: Mapped[float] = mapped_column(Float, default=0.5)
    focal_y: Mapped[float] = mapped_column(Float, default=0.5)


class PublishRender(Base):
    """A large set's renditions in one preset, queued to be made ahead of its zip: one row while
    they render, read by every API process (core/render_ahead.py)."""

    __tablename__ = "publish_renders"

    set_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("publish_sets.id", ondelete="CASCADE"), primary_key=True
    )
    preset: Mapped[str] = mapped_column(String(64), primary_key=True)
    plan_digest: Mapped[str] = mapped_column(String(64))  # of what was queued: a changed set queues again
    queued_at: Mapped[datetime] = mapped_column()


class PublishPreset(Timestamped, Base):
    """A user's own export preset (the built-in ones live in core.presets)."""

    __tablename__ = "publish_presets"
    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_publish_presets_user_name"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(16))  # fit (long edge) | crop (exact size)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    quality: Mapped[int] = mapped_column(Integer, default=85)
    filename_pattern: Mapped[str] = mapped_column(String(200), default="{set}-{n}")


class Share(Base):
    """A link to a publish set or an album; only the SHA-256 of its random token is kept."""

    __tablename__ = "shares"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    set_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("publish_sets.id", ondelete="CASCADE"), index=True
    )
    album_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("albums.id", ondelete="CASCADE"), index=True
    )
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    preset: Mapped[str] = mapped_column(String(64))
    allow_download: Mapped[bool] = mapped_column(Boolean, default=False)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    view_count: Mapped[int] = mapped_column(Integer, default=0)
    last_viewed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
