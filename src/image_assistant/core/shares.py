"""Share links: a publish set or an album seen by anyone holding a random token, in one preset.

The token (256 random bits) is shown once, at creation; only its SHA-256 is kept, so the
database alone opens nothing. A share ends at its expiry or when its owner revokes it (410);
a password, when set, is kept as an argon2 hash. A token reaches only its share's photos, as
renditions of its preset: never another photo, the owner's API or an original file (unless
the preset is `original-clean`, which is the original without its metadata).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session as DbSession

from image_assistant.core import gallery, passwords, presets, publish
from image_assistant.core.presets import Preset
from image_assistant.core.publish import Member
from image_assistant.db.models import Album, AlbumPhoto, Photo, PublishSet, Share
from image_assistant.errors import Forbidden, Gone, NotFound, TooManyAttempts, Unauthorized, Unprocessable

TOKEN_BYTES = 32
MIN_EXPIRY = 1
MAX_EXPIRY = 366 * 24 * 3600
UNLOCK_SECONDS = 12 * 3600


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class Created:
    share: Share
    token: str  # shown once; the server keeps only its hash


def create(
    db: DbSession,
    *,
    user_id: uuid.UUID,
    set_id: uuid.UUID | None = None,
    album_id: uuid.UUID | None = None,
    expires_in: int,
    preset: str,
    allow_download: bool,
    password: str | None,
) -> Created:
    """A new link to one of the user's sets or albums (404 for anyone else's)."""
    if set_id is not None:
        publish.get_set(db, user_id=user_id, set_id=set_id)
    elif album_id is not None:
        gallery.get_album(db, user_id=user_id, album_id=album_id)
    if not MIN_EXPIRY <= expires_in <= MAX_EXPIRY:
        raise Unprocessable(f"expires_in must be {MIN_EXPIRY}-{MAX_EXPIRY} seconds", code="invalid_expiry")
    presets.resolve(db, user_id=user_id, name=preset)
    if password is not None and not 4 <= len(password) <= 1024:
        raise Unprocessable("a share password needs 4-1024 characters", code="weak_password")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    share = Share(
        user_id=user_id,
        set_id=set_id,
        album_id=album_id,
        token_sha256=token_hash(token),
        preset=preset,
        allow_download=allow_download,
        password_hash=passwords.hash_password(password) if password else None,
        expires_at=datetime.now(UTC) + timedelta(seconds=expires_in),
        view_count=0,
    )
    db.add(share)
    db.flush()
    return Created(share, token)


def list_own(
    db: DbSession, *, user_id: uuid.UUID, set_id: uuid.UUID | None = None, album_id: uuid.UUID | None = None
) -> list[tuple[Share, str]]:
    """The user's links (or those of one of their sets or albums), newest first, each with the
    title of what it shares."""
    query = (
        select(Share, PublishSet.title, Album.title)
        .outerjoin(PublishSet, PublishSet.id == Share.set_id)
        .outerjoin(Album, Album.id == Share.album_id)
        .where(Share.user_id == user_id)
        .order_by(Share.created_at.desc())
    )
    if set_id is not None:
        publish.get_set(db, user_id=user_id, set_id=set_id)
        query = query.where(Share.set_id == set_id)
    if album_id is not None:
        gallery.get_album(db, user_id=user_id, album_id=album_id)
        query = query.where(Share.album_id == album_id)
    return [(share, set_title or album_title or "") for share, set_title, album_title in db.execute(query)]


def state(share: Share, now: datetime | None = None) -> str:
    if share.revoked_at is not None:
        return "revoked"
    if share.expires_at <= (now or datetime.now(UTC)):
        return "expired"
    return "active"


def revoke(db: DbSession, *, user_id: uuid.UUID, key: str) -> None:
    """Revoke one of the user's links, named by its id or by its token."""
    try:
        share = db.get(Share, uuid.UUID(key))
    except ValueError:
        share = db.scalar(select(Share).where(Share.token_sha256 == token_hash(key)))
    if share is None or share.user_id != user_id:
        raise NotFound("no such share link of yours", code="share_not_found")
    if share.revoked_at is None:
        share.revoked_at = datetime.now(UTC)


def find_live(db: DbSession, token: str) -> Share:
    """The share a token opens: 404 when there is none, 410 when it expired or was revoked."""
    share = db.scalar(select(Share).where(Share.token_sha256 == token_hash(token)))
    if share is None:
        raise NotFound("no such share link", code="share_not_found")
    if state(share) != "active":
        raise Gone("this share link has expired or was revoked", code="share_gone")
    return share


def check_access(share: Share, *, password: str | None, pass_cookie: str | None) -> None:
    """A password-protected share needs its password, or the pass an unlock gave (401)."""
    if share.password_hash is None:
        return
    if pass_cookie and _pass_is_valid(share, pass_cookie):
        return
    if password is None:
        raise Unauthorized("this link needs its password", code="share_password_required")
    if not verify_password(share, password):
        raise Unauthorized("wrong password for this link", code="share_password_wrong")


def verify_password(share: Share, password: str) -> bool:
    return share.password_hash is not None and passwords.matches(share.password_hash, password)


def unlock_pass(share: Share, *, now: float | None = None) -> str:
    """A pass proving the password was given, for the page's image requests (no header there).

    Signed with the password's own hash (salted, server-side only): a new password voids it.
    """
    until = int((now or time.time()) + UNLOCK_SECONDS)
    return f"{until}.{_mac(share, until)}"


def _mac(share: Share, until: int) -> str:
    key = (share.password_hash or "").encode()
    return hmac.new(key, f"{share.id}:{until}".encode(), hashlib.sha256).hexdigest()


def _pass_is_valid(share: Share, value: str) -> bool:
    until_text, _, mac = value.partition(".")
    if not until_text.isdigit() or int(until_text) < time.time():
        return False
    return hmac.compare_digest(mac, _mac(share, int(until_text)))


def count_view(db: DbSession, share: Share) -> None:
    db.execute(
        update(Share)
        .where(Share.id == share.id)
        .values(view_count=Share.view_count + 1, last_viewed_at=datetime.now(UTC))
    )


@dataclass
class Shared:
    title: str
    note: str
    preset: Preset
    members: list[Member]


def contents(db: DbSession, share: Share) -> Shared:
    """What a share shows now: its set (or its album, live) in order, in its preset."""
    preset = presets.resolve(db, user_id=share.user_id, name=share.preset)
    if share.set_id is not None:
        publish_set = publish.get_set(db, user_id=share.user_id, set_id=share.set_id)
        return Shared(publish_set.title, publish_set.note, preset, publish.members(db, publish_set))
    assert share.album_id is not None
    album = gallery.get_album(db, user_id=share.user_id, album_id=share.album_id)
    photos = db.scalars(
        select(Photo)
        .join(AlbumPhoto, AlbumPhoto.photo_id == Photo.id)
        .where(AlbumPhoto.album_id == album.id, *gallery.visible(share.user_id))
        .order_by(AlbumPhoto.position)
    )
    return Shared(album.title, "", preset, [Member(p) for p in photos])


def require_download(share: Share) -> None:
    if not share.allow_download:
        raise Forbidden("this link does not allow downloads", code="download_not_allowed")


class RateLimit:
    """At most `limit` events per key in any `window` seconds (one process's memory)."""

    def __init__(self, *, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> None:
        """429 when the key is over its limit already (counts nothing)."""
        now = time.monotonic()
        with self._lock:
            events = self._events.get(key)
            if events is not None:
                while events and events[0] <= now - self.window:
                    events.popleft()
            if events is not None and len(events) >= self.limit:
                raise self._refusal(events[0] + self.window - now)

    def _refusal(self, wait: float) -> TooManyAttempts:
        return TooManyAttempts(
            "too many requests for share links; wait a little",
            code="rate_limited",
            retry_after=int(wait) + 1,
        )

    def hit(self, key: str) -> None:
        """Count an event; 429 (with the seconds to wait) when the key is over its limit."""
        now = time.monotonic()
        with self._lock:
            if len(self._events) > 10_000:
                self._events = {k: v for k, v in self._events.items() if v and v[-1] > now - self.window}
            events = self._events.setdefault(key, deque())
            while events and events[0] <= now - self.window:
                events.popleft()
            if len(events) >= self.limit:
                raise self._refusal(events[0] + self.window - now)
            events.append(now)
