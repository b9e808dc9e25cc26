"""Account management for administrators."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from image_assistant.api.bodies import JsonBody
from image_assistant.api.deps import AdminDep, Db
from image_assistant.api.shapes import user_json
from image_assistant.core import accounts

router = APIRouter(prefix="/api/users", tags=["users"])


class NewUser(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)
    is_admin: bool = False


@router.get("")
def list_users(_: AdminDep, db: Db) -> dict[str, Any]:
    return {"users": [user_json(u) for u in accounts.list_users(db)]}


@router.post("", status_code=status.HTTP_201_CREATED)
def create_user(body: Annotated[NewUser, JsonBody(NewUser)], _: AdminDep, db: Db) -> dict[str, Any]:
    user = accounts.create_user(db, username=body.username, password=body.password, is_admin=body.is_admin)
    db.commit()
    return user_json(user)
