"""User accounts (argon2 password hashes) and sign-in sessions."""

from __future__ import annotations

import functools
import re
import uuid
from datetime import UTC, datetime, timedelta
from importlib.resources import files

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from image_assistant.db.models import Session, User
from image_assistant.errors import Conflict, Unauthorized, Unprocessable

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MIN_PASSWORD_LENGTH = 10
_COMMON = files("image_assistant.core") / "data" / "common-passwords.txt"

_hasher = PasswordHasher()
# Verified against when the user does not exist, so both paths take the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def validate_username(username: str) -> str:
    if not USERNAME.match(username):
        raise Unprocessable(
            "username must be 1-64 letters, digits or . _ @ - and start with a letter or digit",
            code="invalid_username",
        )
    return username


@functools.cache
def common_passwords() -> frozenset[str]:
    lines = _COMMON.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def check_password(password: str, *, username: str) -> None:
    """NIST 800-63B's rules: long enough, and not one everybody tries first."""
    if len(password.strip()) < MIN_PASSWORD_LENGTH:
        raise Unprocessable(
            f"password must be at least {MIN_PASSWORD_LENGTH} characters (not counting spaces at its ends)",
            code="weak_password",
        )
    folded = password.strip().lower()
    if folded in common_passwords() or len(set(folded)) < 3 or folded == username.lower():
        raise Unprocessable(
            "this password is among those tried first (common, repetitive, or the username); choose another",
            code="weak_password",
        )


def create_user(db: DbSession, *, username: str, password: str, is_admin: bool = False) -> User:
    validate_username(username)
    check_password(password, username=username)
    if db.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"user {username!r} already exists", code="user_exists")
    user = User(username=username, password_hash=_hasher.hash(password), is_admin=is_admin)
    db.add(user)
    db.flush()
    return user


def authenticate(db: DbSession, *, username: str, password: str) -> User:
    """The user whose password this is; one vague error for every failure."""
    user = db.scalar(select(User).where(User.username == username))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        user = None
    if user is None:
        raise Unauthorized("wrong username or password", code="invalid_credentials")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def open_session(db: DbSession, *, user: User, ttl_seconds: int) -> Session:
    session = Session(user_id=user.id, expires_at=datetime.now(UTC) + timedelta(seconds=ttl_seconds))
    db.add(session)
    db.flush()
    return session


def active_session_user(db: DbSession, session_id: uuid.UUID) -> User:
    """The user of a session that is neither expired nor revoked (one query for both)."""
    found = db.execute(
        select(User, Session.revoked_at, Session.expires_at)
        .join(Session, Session.user_id == User.id)
        .where(Session.id == session_id)
    ).first()
    if found is None or found.revoked_at is not None:
        raise Unauthorized("session has ended; sign in again", code="session_revoked")
    if found.expires_at <= datetime.now(UTC):
        raise Unauthorized("session has expired; sign in again", code="token_expired")
    user: User = found.User
    return user


def close_session(db: DbSession, session_id: uuid.UUID) -> None:
    session = db.get(Session, session_id)
    if session is not None and session.revoked_at is None:
        session.revoked_at = datetime.now(UTC)


def list_users(db: DbSession) -> list[User]:
    return list(db.scalars(select(User).order_by(User.username)))
