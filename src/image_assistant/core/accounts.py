"""User accounts (argon2 password hashes) and sign-in sessions."""

from __future__ import annotations

import functools
import re
import uuid
from datetime import UTC, datetime, timedelta
from importlib.resources import files

from sqlalchemy import select, update
from sqlalchemy.orm import Session as DbSession

from image_assistant.core import passwords
from image_assistant.db.models import Session, User
from image_assistant.errors import Conflict, Forbidden, Unauthorized, Unprocessable

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MIN_PASSWORD_LENGTH = 10
_COMMON = files("image_assistant.core") / "data" / "common-passwords.txt"

# The password hash of an invited account that has not chosen its password: matches nothing.
NO_PASSWORD = "!"


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


def hash_password(password: str, *, username: str) -> str:
    check_password(password, username=username)
    return passwords.hash_password(password)


def password_matches(user: User, password: str) -> bool:
    return passwords.matches(user.password_hash, password)


def create_user(db: DbSession, *, username: str, password: str | None, is_admin: bool = False) -> User:
    """A new account; without a password it is invited: it signs in once it has chosen one."""
    validate_username(username)
    password_hash = NO_PASSWORD if password is None else hash_password(password, username=username)
    if db.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"user {username!r} already exists", code="user_exists")
    user = User(username=username, password_hash=password_hash, is_admin=is_admin)
    db.add(user)
    db.flush()
    return user


def authenticate(db: DbSession, *, username: str, password: str) -> User:
    """The user whose password this is; one vague error for every failure."""
    user = db.scalar(select(User).where(User.username == username))
    if not passwords.matches(user.password_hash if user else passwords.dummy_hash(), password):
        user = None
    if user is None:
        raise Unauthorized("wrong username or password", code="invalid_credentials")
    if user.disabled_at is not None:
        raise Forbidden("this account is disabled; ask an administrator", code="account_disabled")
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    user.last_sign_in_at = datetime.now(UTC)
    return user


def open_session(
    db: DbSession, *, user: User, ttl_seconds: int, client: str = "", address: str = ""
) -> Session:
    now = datetime.now(UTC)
    session = Session(
        user_id=user.id,
        expires_at=now + timedelta(seconds=ttl_seconds),
        last_seen_at=now,
        client=client[:255],
        address=address[:64],
    )
    db.add(session)
    db.flush()
    return session


def active_session_user(db: DbSession, session_id: uuid.UUID) -> User:
    """The user of a session that is neither expired nor revoked (one query for both)."""
    found = db.execute(
        select(User, Session.revoked_at, Session.expires_at, Session.last_seen_at)
        .join(Session, Session.user_id == User.id)
        .where(Session.id == session_id)
    ).first()
    if found is None or found.revoked_at is not None:
        raise Unauthorized("session has ended; sign in again", code="session_revoked")
    now = datetime.now(UTC)
    if found.expires_at <= now:
        raise Unauthorized("session has expired; sign in again", code="token_expired")
    user: User = found.User
    if user.disabled_at is not None:
        raise Unauthorized("this account is disabled", code="account_disabled")
    if found.last_seen_at is None or now - found.last_seen_at > LAST_SEEN_EVERY:
        _mark_seen(db, session_id, now)
    return user


# A session's "last seen" moves at most this often: one small write, not one per request.
LAST_SEEN_EVERY = timedelta(minutes=5)


def _mark_seen(db: DbSession, session_id: uuid.UUID, now: datetime) -> None:
    """Runs when the caller is first looked up, before the request's own work: commit is safe."""
    db.execute(update(Session).where(Session.id == session_id).values(last_seen_at=now))
    db.commit()


def close_session(db: DbSession, session_id: uuid.UUID) -> None:
    session = db.get(Session, session_id)
    if session is not None and session.revoked_at is None:
        session.revoked_at = datetime.now(UTC)


def list_users(db: DbSession) -> list[User]:
    return list(db.scalars(select(User).order_by(User.username)))
