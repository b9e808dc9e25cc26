"""A person's sign-in sessions: which browsers are signed in, and signing them out."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session as DbSession
from ua_parser import parse as parse_user_agent

from image_assistant.db.models import Session
from image_assistant.errors import NotFound


def describe_client(user_agent: str) -> str:
    """'Firefox 133 on Windows' from a User-Agent header; empty when nothing is known."""
    if not user_agent:
        return ""
    found = parse_user_agent(user_agent[:1024])
    parts = []
    if found.user_agent is not None and found.user_agent.family != "Other":
        major = f" {found.user_agent.major}" if found.user_agent.major else ""
        parts.append(found.user_agent.family + major)
    if found.os is not None and found.os.family != "Other":
        parts.append(("on " if parts else "") + found.os.family)
    return " ".join(parts) or user_agent[:60]


def live_sessions(db: DbSession, user_id: uuid.UUID) -> list[Session]:
    now = datetime.now(UTC)
    return list(
        db.scalars(
            select(Session)
            .where(Session.user_id == user_id, Session.revoked_at.is_(None), Session.expires_at > now)
            .order_by(Session.last_seen_at.desc(), Session.created_at.desc())
        )
    )


def sign_out(db: DbSession, *, user_id: uuid.UUID, session_id: uuid.UUID) -> None:
    """End one of the user's own sessions (someone else's is not found)."""
    session = db.get(Session, session_id)
    if session is None or session.user_id != user_id or session.revoked_at is not None:
        raise NotFound("no such session", code="session_not_found")
    session.revoked_at = datetime.now(UTC)


def sign_out_all(db: DbSession, *, user_id: uuid.UUID, keep: uuid.UUID | None = None) -> int:
    """End every session of the user but `keep`; how many were ended."""
    query = update(Session).where(Session.user_id == user_id, Session.revoked_at.is_(None))
    if keep is not None:
        query = query.where(Session.id != keep)
    result = db.execute(query.values(revoked_at=datetime.now(UTC)))
    return int(getattr(result, "rowcount", 0) or 0)
