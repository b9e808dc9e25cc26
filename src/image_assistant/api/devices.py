"""Device pairing (register, verify with the 6-digit code) and the owner's device list."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, ConfigDict, Field

from image_assistant.api.bodies import JsonBody
from image_assistant.api.deps import Db, RuntimeDep, UserCaller, client_address, parse_uuid
from image_assistant.api.docs import DeviceId, errors, json_body
from image_assistant.api.shapes import device_json, iso
from image_assistant.core import devices
from image_assistant.core.records import text
from image_assistant.errors import BadRequest

router = APIRouter(prefix="/api/devices", tags=["devices"])

# Every pairing answer takes at least this long, whether the account or device exists or not.
PAIRING_ANSWER_SECONDS = 0.05


@contextmanager
def taking_at_least(seconds: float) -> Iterator[None]:
    started = time.monotonic()
    try:
        yield
    finally:
        time.sleep(max(0.0, started + seconds - time.monotonic()))


class Register(BaseModel):
    model_config = ConfigDict(strict=True)
    username: str = text(min_length=1, max_length=64)
    name: str = text(min_length=1, max_length=255)
    hardware_id: str = text(min_length=1, max_length=255)
    platform: str = text(default="", max_length=64)
    os_version: str = text(default="", max_length=64)


class Verify(BaseModel):
    model_config = ConfigDict(strict=True)
    device_id: uuid.UUID
    # Checked by the route (400 invalid_code), documented here.
    code: str = Field(max_length=16, json_schema_extra={"pattern": "^[0-9]{6}$"})


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=json_body(Register),
    responses=errors(400, 413, 422, 429),
)
def register(
    body: Annotated[Register, JsonBody(Register)], request: Request, runtime: RuntimeDep, db: Db
) -> dict[str, Any]:
    runtime.guards.register.hit(client_address(request))
    facts = devices.DeviceFacts(body.name, body.hardware_id, body.platform, body.os_version)
    with taking_at_least(PAIRING_ANSWER_SECONDS):
        device_id = devices.register(db, username=body.username, facts=facts)
        db.commit()
    return {
        "device_id": str(device_id),
        "status": "pending",
        "code_expires_in": int(devices.CODE_TTL.total_seconds()),
        "message": "enter the 6-digit code shown on the Devices page of the gallery",
    }


@router.post("/verify", openapi_extra=json_body(Verify), responses=errors(400, 413, 422, 429))
def verify(
    body: Annotated[Verify, JsonBody(Verify)], request: Request, runtime: RuntimeDep, db: Db
) -> dict[str, Any]:
    runtime.guards.verify.hit(client_address(request))
    if not (len(body.code) == 6 and body.code.isdigit()):
        raise BadRequest("the code is 6 digits", code="invalid_code")
    with taking_at_least(PAIRING_ANSWER_SECONDS):
        outcome = devices.verify(db, device_id=body.device_id, code=body.code)
        db.commit()
    if outcome.error is not None:
        raise outcome.error
    device = outcome.device
    assert device is not None
    ttl = runtime.settings.jwt_ttl
    token = runtime.signer.issue(devices.claims_for(device), ttl_seconds=ttl)
    return {
        "token": token,
        "token_type": "bearer",
        "expires_at": iso(datetime.now(UTC) + timedelta(seconds=ttl)),
        "device": device_json(device),
    }


@router.get("", responses=errors(401, 403))
def list_devices(caller: UserCaller, db: Db) -> dict[str, Any]:
    rows = devices.list_for_user(db, caller.user_id)
    locked_until = devices.pairing_locked_until(db, caller.user_id)
    return {
        "devices": [device_json(d, photos=n, with_code=True) for d, n in rows],
        "pairing_locked_until": iso(locked_until),
    }


@router.delete("/{device_id}", responses=errors(400, 401, 403, 404))
def revoke(device_id: DeviceId, caller: UserCaller, db: Db) -> dict[str, Any]:
    device = devices.revoke(db, device_id=parse_uuid(device_id, "device id"), user_id=caller.user_id)
    db.commit()
    return device_json(device)
