"""First run: whether the server still needs its first account, and making it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from image_assistant.api.auth import signed_in
from image_assistant.api.bodies import JsonBody
from image_assistant.api.deps import Db, RuntimeDep
from image_assistant.api.docs import errors, json_body
from image_assistant.core import accounts, setup

router = APIRouter(prefix="/api/setup", tags=["setup"])


class FirstAccount(BaseModel):
    model_config = ConfigDict(strict=True)
    username: str = Field(
        min_length=1, max_length=64, json_schema_extra={"pattern": accounts.USERNAME.pattern}
    )
    password: str = Field(min_length=1, max_length=1024)
    setup_code: str | None = Field(default=None, max_length=64)


def _trusted_local(request: Request) -> bool:
    return setup.is_trusted_local(
        request.client.host if request.client else None, set(request.headers.keys())
    )


@router.get("")
def setup_state(request: Request, db: Db) -> dict[str, Any]:
    is_open = setup.is_open(db)
    return {"open": is_open, "code_required": is_open and not _trusted_local(request)}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=json_body(FirstAccount),
    responses=errors(400, 403, 409, 413, 422),
)
def create_first_account(
    body: Annotated[FirstAccount, JsonBody(FirstAccount)],
    request: Request,
    response: Response,
    runtime: RuntimeDep,
    db: Db,
) -> dict[str, Any]:
    """The first account, an administrator, signed in at once; 409 once any account exists."""
    user = setup.claim(
        db,
        username=body.username,
        password=body.password,
        code=body.setup_code,
        trusted_local=_trusted_local(request),
        data_dir=runtime.settings.data_dir,
    )
    return signed_in(request, response, runtime, db, user)
