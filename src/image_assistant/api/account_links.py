"""The other end of an invitation or reset link: check it, then choose a password through it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from image_assistant.api.auth import signed_in
from image_assistant.api.bodies import JsonBody
from image_assistant.api.deps import Db, RuntimeDep
from image_assistant.api.docs import errors, json_body
from image_assistant.api.shapes import iso
from image_assistant.core import account_links

router = APIRouter(prefix="/api/account-links", tags=["users"])


class LinkToken(BaseModel):
    model_config = ConfigDict(strict=True)
    token: str = Field(min_length=1, max_length=128)


class LinkUse(LinkToken):
    password: str = Field(min_length=1, max_length=1024)


@router.post("/check", openapi_extra=json_body(LinkToken), responses=errors(400, 404, 410, 413, 422))
def check_link(body: Annotated[LinkToken, JsonBody(LinkToken)], db: Db) -> dict[str, Any]:
    link, user = account_links.check(db, body.token)
    return {"username": user.username, "purpose": link.purpose, "expires_at": iso(link.expires_at)}


@router.post("/use", openapi_extra=json_body(LinkUse), responses=errors(400, 403, 404, 410, 413, 422))
def use_link(
    body: Annotated[LinkUse, JsonBody(LinkUse)],
    request: Request,
    response: Response,
    runtime: RuntimeDep,
    db: Db,
) -> dict[str, Any]:
    """Set the password (the link then stops working) and sign in."""
    user = account_links.use(db, token=body.token, password=body.password)
    if user.disabled_at is not None:
        db.commit()
        return {"changed": True, "user": None}
    return signed_in(request, response, runtime, db, user)
