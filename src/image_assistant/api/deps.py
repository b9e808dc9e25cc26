"""Typed dependencies: the runtime, a database session, and who is calling."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session as DbSession

from image_assistant.core import accounts, devices
from image_assistant.core.devices import DeviceRef
from image_assistant.core.tokens import Claims
from image_assistant.db.models import User
from image_assistant.errors import BadRequest, Forbidden, Unauthorized
from image_assistant.runtime import Runtime

SESSION_COOKIE = "ia_session"


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_db(runtime: RuntimeDep) -> AsyncIterator[DbSession]:
    """A session per request, opened in the event loop: it touches the database only when used."""
    session = runtime.sessions()
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)  # a rollback: a round trip to the database
        else:
            session.close()


Db = Annotated[DbSession, Depends(get_db)]


def credentials(request: Request) -> str:
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("use 'Authorization: Bearer <token>'", code="token_invalid")
        return token.strip()
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        return cookie
    raise Unauthorized("sign in first", code="not_authenticated")


@dataclass(frozen=True)
class Caller:
    """Who is calling: a signed-in user (with their session) or a paired device."""

    user_id: uuid.UUID
    user: User | None = None
    session_id: uuid.UUID | None = None
    device: DeviceRef | None = None


def get_caller(request: Request, runtime: RuntimeDep, db: Db) -> Caller:
    return caller_for(db, token_claims(request, runtime))


def token_claims(request: Request, runtime: Runtime) -> Claims:
    """The request's token, signature and expiry checked (no database: cheap, any thread)."""
    return runtime.signer.read(credentials(request))


def caller_for(db: DbSession, claims: Claims) -> Caller:
    """The user or device a checked token names, if it is still active."""
    if claims.kind == "device":
        device = devices.authenticate(db, claims)
        return Caller(user_id=device.user_id, device=device)
    user = accounts.active_session_user(db, claims.subject)
    return Caller(user_id=user.id, user=user, session_id=claims.subject)


CallerDep = Annotated[Caller, Depends(get_caller)]


# The checks below only read the caller: `async` keeps them off the thread pool.
async def get_user_caller(caller: CallerDep) -> Caller:
    if caller.user is None:
        raise Forbidden("this needs a signed-in user, not a device token", code="user_required")
    return caller


async def get_device(caller: CallerDep) -> DeviceRef:
    return _device_only(caller)


def device_caller(db: DbSession, claims: Claims) -> DeviceRef:
    """What DeviceDep gives, for a route that checks the device in its own worker thread."""
    return _device_only(caller_for(db, claims))


def _device_only(caller: Caller) -> DeviceRef:
    if caller.device is None:
        raise Forbidden("this needs a paired device's token", code="device_required")
    return caller.device


async def get_admin(caller: Annotated[Caller, Depends(get_user_caller)]) -> User:
    if caller.user is None or not caller.user.is_admin:
        raise Forbidden("this needs an administrator", code="admin_required")
    return caller.user


UserCaller = Annotated[Caller, Depends(get_user_caller)]
DeviceDep = Annotated[DeviceRef, Depends(get_device)]
AdminDep = Annotated[User, Depends(get_admin)]


def client_address(request: Request) -> str:
    """The caller's address (uvicorn takes it from X-Forwarded-For only for FORWARDED_ALLOW_IPS)."""
    return request.client.host if request.client else "unknown"


def parse_uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise BadRequest(f"{what} must be a UUID", code="invalid_id") from exc
