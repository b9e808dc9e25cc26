"""Device pairing (register, verify with the 6-digit code) and the owner's device list."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from image_assistant.api.bodies import JsonBody
from image_assistant.api.deps import Db, ServicesDep, UserCaller, parse_uuid
from image_assistant.api.shapes import device_json, iso
from image_assistant.core import devices
from image_assistant.errors import BadRequest

router = APIRouter(prefix="/api/devices", tags=["devices"])


class Register(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=255)
    hardware_id: str = Field(min_length=1, max_length=255)
    platform: str = Field(default="", max_length=64)
    os_version: str = Field(default="", max_length=64)


class Verify(BaseModel):
    device_id: uuid.UUID
    code: str = Field(max_length=16)


@router.post("/register", status_code=status.HTTP_201_CREATED)
def register(body: Annotated[Register, JsonBody(Register)], db: Db) -> dict[str, Any]:
    facts = devices.DeviceFacts(body.name, body.hardware_id, body.platform, body.os_version)
    device_id = devices.register(db, username=body.username, facts=facts)
    db.commit()
    return {
        "device_id": str(device_id),
        "status": "pending",
        "code_expires_in": int(devices.CODE_TTL.total_seconds()),
        "message": "enter the 6-digit code shown on the Devices page of the gallery",
    }


@router.post("/verify")
def verify(body: Annotated[Verify, JsonBody(Verify)], services: ServicesDep, db: Db) -> dict[str, Any]:
    if not (len(body.code) == 6 and body.code.isdigit()):
        raise BadRequest("the code is 6 digits", code="invalid_code")
    outcome = devices.verify(db, device_id=body.device_id, code=body.code)
    db.commit()
    if outcome.error is not None:
        raise outcome.error
    device = outcome.device
    assert device is not None
    ttl = services.settings.jwt_ttl
    token = services.signer.issue(devices.claims_for(device), ttl_seconds=ttl)
    return {
        "token": token,
        "token_type": "bearer",
        "expires_at": iso(datetime.now(UTC) + timedelta(seconds=ttl)),
        "device": device_json(device),
    }


@router.get("")
def list_devices(caller: UserCaller, db: Db) -> dict[str, Any]:
    rows = devices.list_for_user(db, caller.user_id)
    return {"devices": [device_json(d, photos=n, with_code=True) for d, n in rows]}


@router.delete("/{device_id}")
def revoke(device_id: str, caller: UserCaller, db: Db) -> dict[str, Any]:
    device = devices.revoke(db, device_id=parse_uuid(device_id, "device id"), user_id=caller.user_id)
    db.commit()
    return device_json(device)
