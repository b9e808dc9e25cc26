"""Account management for administrators."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from image_assistant.api.bodies import JsonBody
from image_assistant.api.deps import AdminDep, Db
from image_assistant.api.docs import errors, json_body
from image_assistant.api.shapes import user_json
from image_assistant.core import accounts

router = APIRouter(prefix="/api/users", tags=["users"])


class NewUser(BaseModel):
    model_config = ConfigDict(strict=True)
    # The account rules are checked by core.accounts (422 invalid_username, weak_password); documented here.
    username: str = Field(
        min_length=1, max_length=64, json_schema_extra={"pattern": accounts.USERNAME.pattern}
    )
    password: str = Field(
        min_length=1, max_length=1024, json_schema_extra={"minLength": accounts.MIN_PASSWORD_LENGTH}
    )
    is_admin: bool = False


@router.get("", responses=errors(401, 403))
def list_users(_: AdminDep, db: Db) -> dict[str, Any]:
    return {"users": [user_json(u) for u in accounts.list_users(db)]}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=json_body(NewUser),
    responses=errors(400, 401, 403, 409, 413, 422),
)
def create_user(body: Annotated[NewUser, JsonBody(NewUser)], _: AdminDep, db: Db) -> dict[str, Any]:
    user = accounts.create_user(db, username=body.username, password=body.password, is_admin=body.is_admin)
    db.commit()
    return user_json(user)
