"""One-time links that let a person choose a password: invitations and password resets.

The link is `<gallery>/welcome#<token>`: the token rides in the fragment, so it never reaches a
server log or a Referer header. Only its SHA-256 is stored; a new link for the same account
makes the older ones useless; a used or expired link answers 410.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session as DbSession

from image_assistant.core import people
from image_assistant.db.models import AccountLink, User
from image_assistant.errors import Gone, NotFound

INVITATION = "invitation"
RESET = "reset"


@dataclass(frozen=True)
class IssuedLink:
    token: str
    expires_at: datetime
    purpose: str

    def url(self, base_url: str) -> str:
        return f"{base_url.rstrip('/')}/welcome#{self.token}"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(db: DbSession, *, user: User, purpose: str, ttl_seconds: int) -> IssuedLink:
    now = datetime.now(UTC)
    db.execute(
        update(AccountLink)
        .where(AccountLink.user_id == user.id, AccountLink.used_at.is_(None), AccountLink.expires_at > now)
        .values(expires_at=now)
    )
    token = secrets.token_urlsafe(32)
    expires_at = now + timedelta(seconds=ttl_seconds)
    db.add(AccountLink(user_id=user.id, purpose=purpose, token_sha256=_digest(token), expires_at=expires_at))
    db.flush()
    return IssuedLink(token, expires_at, purpose)


def check(db: DbSession, token: str) -> tuple[AccountLink, User]:
    """The live link a token names and its account (404 unknown, 410 used or expired)."""
    found = db.execute(
        select(AccountLink, User)
        .join(User, User.id == AccountLink.user_id)
        .where(AccountLink.token_sha256 == _digest(token))
    ).first()
    if found is None:
        raise NotFound("this link is not valid", code="link_not_found")
    link, user = found.tuple()
    if link.used_at is not None:
        raise Gone("this link has been used already", code="link_used")
    if link.expires_at <= datetime.now(UTC):
        raise Gone("this link has expired; ask for a new one", code="link_expired")
    return link, user


def use(db: DbSession, *, token: str, password: str) -> User:
    """Set the account's password through its link (once); every session of the account ends."""
    link, user = check(db, token)
    people.set_password(db, user, password)
    link.used_at = datetime.now(UTC)
    return user
