"""Sign-in, sign-out and who am I."""

from __future__ import annotations

import uuid
from collections.abc import Hashable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session as DbSession

from image_assistant.api.bodies import JsonBody
from image_assistant.api.deps import SESSION_COOKIE, Db, RuntimeDep, UserCaller, client_address, parse_uuid
from image_assistant.api.docs import errors, json_body
from image_assistant.api.shapes import iso, user_json
from image_assistant.core import accounts, people, sessions
from image_assistant.core.records import text
from image_assistant.core.throttle import Backoff
from image_assistant.core.tokens import Claims
from image_assistant.db.models import Session, User
from image_assistant.errors import TooManyAttempts, Unauthorized
from image_assistant.runtime import Runtime

router = APIRouter(prefix="/api/auth", tags=["auth"])


class Login(BaseModel):
    model_config = ConfigDict(strict=True)
    username: str = text(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


@router.post("/login", openapi_extra=json_body(Login), responses=errors(400, 401, 413, 422, 429))
def login(
    body: Annotated[Login, JsonBody(Login)],
    request: Request,
    response: Response,
    runtime: RuntimeDep,
    db: Db,
) -> dict[str, Any]:
    user = _authenticate(runtime, db, body, client_address(request))
    return signed_in(request, response, runtime, db, user)


def signed_in(
    request: Request, response: Response, runtime: Runtime, db: DbSession, user: User
) -> dict[str, Any]:
    """Open a session for `user` (commit), set its cookie, and answer with its token."""
    ttl = runtime.settings.session_ttl
    session = accounts.open_session(
        db,
        user=user,
        ttl_seconds=ttl,
        client=sessions.describe_client(request.headers.get("user-agent", "")),
        address=client_address(request),
    )
    db.commit()
    token = runtime.signer.issue(
        Claims(kind="session", subject=session.id, user_id=user.id, generation=0), ttl_seconds=ttl
    )
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=ttl,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return {
        "token": token,
        "token_type": "bearer",
        "expires_at": iso(datetime.now(UTC) + timedelta(seconds=ttl)),
        "user": user_json(user),
    }


def _authenticate(runtime: Runtime, db: DbSession, body: Login, client: str) -> User:
    """The user, unless this client or this account has failed too often lately (429, no hashing)."""
    guards = runtime.guards
    counted: list[tuple[Backoff, Hashable]] = [
        (guards.login_client, client),
        (guards.login_account, (body.username, client)),
        (guards.login_everywhere, body.username),
    ]
    done: list[tuple[Backoff, Hashable]] = []
    try:
        for backoff, key in counted:
            backoff.attempt(key)
            done.append((backoff, key))
    except TooManyAttempts:
        for guard, slot in done:
            guard.succeeded(slot)  # refused unjudged: not a failure
        raise
    try:
        user = accounts.authenticate(db, username=body.username, password=body.password)
    except Unauthorized:
        for guard, slot in counted:
            guard.failed(slot)
        raise
    for guard, slot in counted:
        guard.succeeded(slot)
    guards.login_account.forget((body.username, client))
    return user


@router.post("/logout", responses=errors(401, 403))
def logout(response: Response, caller: UserCaller, db: Db) -> dict[str, Any]:
    if caller.session_id is not None:
        accounts.close_session(db, caller.session_id)
        db.commit()
    response.delete_cookie(SESSION_COOKIE, path="/")
    return {"signed_out": True}


@router.get("/me", responses=errors(401, 403))
def me(caller: UserCaller) -> dict[str, Any]:
    assert caller.user is not None
    return user_json(caller.user)


class PasswordChange(BaseModel):
    model_config = ConfigDict(strict=True)
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


@router.post("/password", openapi_extra=json_body(PasswordChange), responses=errors(400, 401, 403, 413, 422))
def change_password(
    body: Annotated[PasswordChange, JsonBody(PasswordChange)], caller: UserCaller, db: Db
) -> dict[str, Any]:
    """Change your own password; your other sessions are signed out, this one stays."""
    assert caller.user is not None
    user = db.merge(caller.user)
    people.change_password(
        db, user, current=body.current_password, new=body.new_password, session_id=caller.session_id
    )
    db.commit()
    return {"changed": True}


def _session_json(session: Session, current: uuid.UUID | None) -> dict[str, Any]:
    return {
        "id": str(session.id),
        "client": session.client,
        "address": session.address,
        "created_at": iso(session.created_at),
        "last_seen_at": iso(session.last_seen_at),
        "expires_at": iso(session.expires_at),
        "current": session.id == current,
    }


@router.get("/sessions", responses=errors(401, 403))
def list_sessions(caller: UserCaller, db: Db) -> dict[str, Any]:
    live = sessions.live_sessions(db, caller.user_id)
    return {"sessions": [_session_json(s, caller.session_id) for s in live]}


@router.delete("/sessions", responses=errors(401, 403))
def sign_out_others(caller: UserCaller, db: Db) -> dict[str, Any]:
    """Sign out every other session of yours (this one stays)."""
    ended = sessions.sign_out_all(db, user_id=caller.user_id, keep=caller.session_id)
    db.commit()
    return {"signed_out": ended}


@router.delete("/sessions/{session_id}", responses=errors(400, 401, 403, 404))
def sign_out_session(session_id: str, response: Response, caller: UserCaller, db: Db) -> dict[str, Any]:
    ident = parse_uuid(session_id, "session id")
    sessions.sign_out(db, user_id=caller.user_id, session_id=ident)
    db.commit()
    if ident == caller.session_id:
        response.delete_cookie(SESSION_COOKIE, path="/")
    return {"signed_out": 1}
