"""Accounts as administrators manage them: who there is, with what, and who may do what."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session as DbSession

from image_assistant.core import accounts, sessions
from image_assistant.db.models import Photo, PhotoFile, User
from image_assistant.errors import Conflict, NotFound, Unauthorized


@dataclass(frozen=True)
class Account:
    user: User
    photo_count: int
    bytes_stored: int


def list_accounts(db: DbSession) -> list[Account]:
    """Every account with its photos and the bytes of its stored files (two grouped queries)."""
    photos = {
        user_id: count
        for user_id, count in db.execute(
            select(Photo.user_id, func.count()).where(Photo.deleted_at.is_(None)).group_by(Photo.user_id)
        ).tuples()
    }
    stored = {
        user_id: size
        for user_id, size in db.execute(
            select(Photo.user_id, func.coalesce(func.sum(PhotoFile.size), 0))
            .join(PhotoFile, PhotoFile.photo_id == Photo.id)
            .where(PhotoFile.stored_at.is_not(None))
            .group_by(Photo.user_id)
        ).tuples()
    }
    return [
        Account(user, int(photos.get(user.id) or 0), int(stored.get(user.id) or 0))
        for user in accounts.list_users(db)
    ]


def find(db: DbSession, user_id: uuid.UUID) -> User:
    user = db.get(User, user_id)
    if user is None:
        raise NotFound("no such account", code="user_not_found")
    return user


def find_by_name(db: DbSession, username: str) -> User:
    user = db.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no account named {username!r}", code="user_not_found")
    return user


def _other_active_admins(db: DbSession, user: User) -> int:
    count = db.scalar(
        select(func.count())
        .select_from(User)
        .where(User.is_admin.is_(True), User.disabled_at.is_(None), User.id != user.id)
    )
    return int(count or 0)


def _keep_an_admin(db: DbSession, user: User) -> None:
    if user.is_admin and user.disabled_at is None and _other_active_admins(db, user) == 0:
        raise Conflict("this is the last administrator; make someone else admin first", code="last_admin")


def set_admin(db: DbSession, user: User, is_admin: bool) -> None:
    if not is_admin:
        _keep_an_admin(db, user)
    user.is_admin = is_admin


def set_disabled(db: DbSession, user: User, disabled: bool) -> None:
    """Disable (its sessions end now, its devices stop at their next call; photos are kept) or enable."""
    if disabled and user.disabled_at is None:
        _keep_an_admin(db, user)
        user.disabled_at = datetime.now(UTC)
        sessions.sign_out_all(db, user_id=user.id)
    elif not disabled:
        user.disabled_at = None


def set_password(db: DbSession, user: User, password: str, *, keep_session: uuid.UUID | None = None) -> None:
    """A new password; every other session of the account is signed out."""
    user.password_hash = accounts.hash_password(password, username=user.username)
    sessions.sign_out_all(db, user_id=user.id, keep=keep_session)


def change_password(
    db: DbSession, user: User, *, current: str, new: str, session_id: uuid.UUID | None
) -> None:
    if not accounts.password_matches(user, current):
        raise Unauthorized("the current password is not right", code="invalid_credentials")
    set_password(db, user, new, keep_session=session_id)
