"""Sign-in, sign-out and who am I."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session as DbSession

from image_assistant.api.bodies import JsonBody
from image_assistant.api.deps import SESSION_COOKIE, Db, RuntimeDep, UserCaller, client_address
from image_assistant.api.docs import errors, json_body
from image_assistant.api.shapes import iso, user_json
from image_assistant.core import accounts
from image_assistant.core.records import text
from image_assistant.core.tokens import Claims
from image_assistant.db.models import User
from image_assistant.errors import Unauthorized
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
    ttl = runtime.settings.session_ttl
    user = _authenticate(runtime, db, body, client_address(request))
    session = accounts.open_session(db, user=user, ttl_seconds=ttl)
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
    keys = ((guards.login_client, client), (guards.login_account, (body.username, client)))
    for backoff, key in (*keys, (guards.login_everywhere, body.username)):
        backoff.check(key)
    try:
        user = accounts.authenticate(db, username=body.username, password=body.password)
    except Unauthorized:
        for backoff, key in (*keys, (guards.login_everywhere, body.username)):
            backoff.failed(key)
        raise
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
