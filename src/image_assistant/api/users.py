"""Accounts for administrators: list, create, invite, disable, make admin, reset a password."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, ConfigDict, Field

from image_assistant.api.bodies import JsonBody
from image_assistant.api.deps import AdminDep, Db, RuntimeDep, parse_uuid
from image_assistant.api.docs import errors, json_body
from image_assistant.api.shapes import iso, user_json
from image_assistant.config import Settings
from image_assistant.core import account_links, accounts, people
from image_assistant.db.models import User
from image_assistant.errors import Unprocessable

router = APIRouter(tags=["users"])

_USERNAME = Field(min_length=1, max_length=64, json_schema_extra={"pattern": accounts.USERNAME.pattern})


class NewUser(BaseModel):
    model_config = ConfigDict(strict=True)
    # The account rules are checked by core.accounts (422 invalid_username, weak_password); documented here.
    username: str = _USERNAME
    password: str = Field(
        min_length=1, max_length=1024, json_schema_extra={"minLength": accounts.MIN_PASSWORD_LENGTH}
    )
    is_admin: bool = False


class Invitation(BaseModel):
    model_config = ConfigDict(strict=True)
    username: str = _USERNAME
    is_admin: bool = False


class AccountChange(BaseModel):
    model_config = ConfigDict(strict=True)
    disabled: bool | None = None
    is_admin: bool | None = None


def base_url(request: Request, settings: Settings) -> str:
    """Where people reach the gallery: PUBLIC_URL, else the address this request came to."""
    return settings.public_url or str(request.base_url)


def account_json(account: people.Account) -> dict[str, Any]:
    user = account.user
    return {
        **user_json(user),
        "disabled": user.disabled_at is not None,
        "invited": user.password_hash == accounts.NO_PASSWORD,
        "photo_count": account.photo_count,
        "bytes_stored": account.bytes_stored,
        "last_sign_in_at": iso(user.last_sign_in_at),
        "created_at": iso(user.created_at),
    }


def _link_json(link: account_links.IssuedLink, request: Request, settings: Settings) -> dict[str, Any]:
    return {
        "url": link.url(base_url(request, settings)),
        "expires_at": iso(link.expires_at),
        "purpose": link.purpose,
    }


@router.get("/api/users", responses=errors(401, 403))
def list_users(_: AdminDep, db: Db) -> dict[str, Any]:
    return {"users": [account_json(a) for a in people.list_accounts(db)]}


@router.post(
    "/api/users",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=json_body(NewUser),
    responses=errors(400, 401, 403, 409, 413, 422),
)
def create_user(body: Annotated[NewUser, JsonBody(NewUser)], _: AdminDep, db: Db) -> dict[str, Any]:
    user = accounts.create_user(db, username=body.username, password=body.password, is_admin=body.is_admin)
    db.commit()
    return user_json(user)


@router.post(
    "/api/invitations",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=json_body(Invitation),
    responses=errors(400, 401, 403, 409, 413, 422),
)
def invite(
    body: Annotated[Invitation, JsonBody(Invitation)],
    request: Request,
    _: AdminDep,
    runtime: RuntimeDep,
    db: Db,
) -> dict[str, Any]:
    """A new account without a password, and the link (shown once) that lets its owner choose one."""
    user = accounts.create_user(db, username=body.username, password=None, is_admin=body.is_admin)
    link = account_links.issue(
        db, user=user, purpose=account_links.INVITATION, ttl_seconds=runtime.settings.invitation_ttl
    )
    db.commit()
    return {"user": user_json(user), **_link_json(link, request, runtime.settings)}


@router.patch(
    "/api/users/{user_id}",
    openapi_extra=json_body(AccountChange),
    responses=errors(400, 401, 403, 404, 409, 413, 422),
)
def change_account(
    user_id: str, body: Annotated[AccountChange, JsonBody(AccountChange)], _: AdminDep, db: Db
) -> dict[str, Any]:
    """Disable or enable an account, make or unmake an admin (never the last one)."""
    if body.disabled is None and body.is_admin is None:
        raise Unprocessable("give `disabled` and/or `is_admin`", code="nothing_to_change")
    user = people.find(db, parse_uuid(user_id, "user id"))
    if body.is_admin is not None:
        people.set_admin(db, user, body.is_admin)
    if body.disabled is not None:
        people.set_disabled(db, user, body.disabled)
    db.commit()
    return _one(db, user)


def _one(db: Db, user: User) -> dict[str, Any]:
    found = next(a for a in people.list_accounts(db) if a.user.id == user.id)
    return account_json(found)


@router.post(
    "/api/users/{user_id}/reset-link",
    status_code=status.HTTP_201_CREATED,
    responses=errors(400, 401, 403, 404),
)
def reset_link(user_id: str, request: Request, _: AdminDep, runtime: RuntimeDep, db: Db) -> dict[str, Any]:
    """A one-time link (shown once) that lets the account's owner set a new password."""
    user = people.find(db, parse_uuid(user_id, "user id"))
    purpose = account_links.INVITATION if user.password_hash == accounts.NO_PASSWORD else account_links.RESET
    ttl = (
        runtime.settings.invitation_ttl
        if purpose == account_links.INVITATION
        else runtime.settings.password_reset_ttl
    )
    link = account_links.issue(db, user=user, purpose=purpose, ttl_seconds=ttl)
    db.commit()
    return _link_json(link, request, runtime.settings)
