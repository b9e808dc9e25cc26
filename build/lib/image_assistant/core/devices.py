"""Device pairing: pending devices with a 6-digit code, verification, revocation."""

from __future__ import annotations

import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session as DbSession

from image_assistant.core.tokens import Claims
from image_assistant.db.models import Device, Photo, User
from image_assistant.errors import AppError, BadRequest, NotFound, TooManyAttempts, Unauthorized

CODE_TTL = timedelta(minutes=10)
MAX_CODE_ATTEMPTS = 5


@dataclass(frozen=True)
class DeviceFacts:
    name: str
    hardware_id: str
    platform: str
    os_version: str


def register(db: DbSession, *, username: str, facts: DeviceFacts) -> uuid.UUID:
    """A pending device with a fresh code; the code is never part of the answer.

    An unknown username gets a device id too (that no code will ever match), so the
    answer does not tell who has an account.
    """
    user = db.scalar(select(User).where(User.username == username))
    if user is None:
        return uuid.uuid4()
    device = db.scalar(
        select(Device).where(Device.user_id == user.id, Device.hardware_id == facts.hardware_id)
    )
    if device is None:
        device = Device(user_id=user.id, hardware_id=facts.hardware_id)
        db.add(device)
    device.name = facts.name
    device.platform = facts.platform
    device.os_version = facts.os_version
    if device.status != "active":
        device.status = "pending"
    device.verification_code = f"{secrets.randbelow(1_000_000):06d}"
    device.code_expires_at = datetime.now(UTC) + CODE_TTL
    device.code_attempts = 0
    db.flush()
    return device.id


@dataclass(frozen=True)
class Verification:
    """What a code check decided; the attempt count is saved even when it failed."""

    device: Device | None
    error: AppError | None


def verify(db: DbSession, *, device_id: uuid.UUID, code: str) -> Verification:
    device = db.get(Device, device_id, with_for_update=True)
    if device is None:
        return Verification(None, BadRequest("the code is not valid", code="invalid_code"))
    if device.code_attempts >= MAX_CODE_ATTEMPTS:
        return Verification(None, _burnt())
    if device.verification_code is None or device.code_expires_at is None:
        return Verification(None, BadRequest("no code is waiting; register again", code="no_code"))
    if device.code_expires_at <= datetime.now(UTC):
        device.verification_code = None
        return Verification(None, BadRequest("the code has expired; register again", code="code_expired"))
    if not hmac.compare_digest(device.verification_code.encode(), code.encode()):
        device.code_attempts += 1
        left = MAX_CODE_ATTEMPTS - device.code_attempts
        if left <= 0:
            device.verification_code = None
            return Verification(None, _burnt())
        return Verification(
            None, BadRequest(f"the code is not valid; {left} tries left", code="invalid_code")
        )
    device.verification_code = None
    device.code_expires_at = None
    device.code_attempts = 0
    device.verified = True
    device.status = "active"
    device.token_generation += 1
    return Verification(device, None)


def _burnt() -> TooManyAttempts:
    return TooManyAttempts(
        "too many wrong codes; this code is burnt, register the device again",
        code="code_burnt",
    )


def claims_for(device: Device) -> Claims:
    return Claims(
        kind="device", subject=device.id, user_id=device.user_id, generation=device.token_generation
    )


@dataclass(frozen=True)
class DeviceRef:
    """An authenticated device: all a sync call needs to know of it."""

    id: uuid.UUID
    user_id: uuid.UUID


_ACTIVE_DEVICE = select(Device.user_id, Device.token_generation).where(
    Device.id == bindparam("device_id"), Device.status == "active"
)


def authenticate(db: DbSession, claims: Claims) -> DeviceRef:
    """The active device a token names; any revoke or re-pairing ends older tokens.

    One plain row query (no ORM object): this runs before every sync call.
    """
    row = db.connection().execute(_ACTIVE_DEVICE, {"device_id": claims.subject}).first()
    if row is None or row.user_id != claims.user_id or row.token_generation != claims.generation:
        raise Unauthorized("this device has been revoked; pair it again", code="device_revoked")
    return DeviceRef(claims.subject, row.user_id)


def list_for_user(db: DbSession, user_id: uuid.UUID) -> list[tuple[Device, int]]:
    """The user's devices, newest first, each with its number of synced photos."""
    counts = (
        select(Photo.device_id, func.count().label("n"))
        .where(Photo.user_id == user_id, Photo.deleted_at.is_(None))
        .group_by(Photo.device_id)
        .subquery()
    )
    rows = db.execute(
        select(Device, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.device_id == Device.id)
        .where(Device.user_id == user_id)
        .order_by(Device.created_at.desc())
    )
    return [(device, int(n)) for device, n in rows]


def list_all(db: DbSession, *, username: str | None = None) -> list[tuple[Device, str]]:
    query = select(Device, User.username).join(User, User.id == Device.user_id)
    if username:
        query = query.where(User.username == username)
    return [(d, u) for d, u in db.execute(query.order_by(Device.created_at))]


def code_is_live(device: Device) -> bool:
    return (
        device.verification_code is not None
        and device.code_expires_at is not None
        and device.code_expires_at > datetime.now(UTC)
    )


def revoke(db: DbSession, *, device_id: uuid.UUID, user_id: uuid.UUID | None) -> Device:
    """Deactivate a device; `user_id` None means an administrator acting from the CLI."""
    device = db.get(Device, device_id)
    if device is None or (user_id is not None and device.user_id != user_id):
        raise NotFound("no such device", code="device_not_found")
    device.status = "revoked"
    device.verified = False
    device.verification_code = None
    device.code_expires_at = None
    device.token_generation += 1
    return device
