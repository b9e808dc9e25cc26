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
from image_assistant.db.models import Device, PairingLock, Photo, User
from image_assistant.errors import AppError, BadRequest, NotFound, TooManyAttempts, Unauthorized

CODE_TTL = timedelta(minutes=10)
MAX_CODE_ATTEMPTS = 5  # wrong tries that burn one code
WRONG_CODES_PER_WINDOW = 10  # wrong codes judged per account in a window, then 429 until it ends
LOCK_WINDOW = timedelta(hours=1)
MAX_PAIRING_REQUESTS = 3  # codes waiting per account; a newer request drops the oldest


@dataclass(frozen=True)
class DeviceFacts:
    name: str
    hardware_id: str
    platform: str
    os_version: str


def register(db: DbSession, *, username: str, facts: DeviceFacts) -> uuid.UUID:
    """A pairing request with a fresh code; the code is never part of the answer.

    An unknown username gets a device id too (that no code will ever match), so the
    answer does not tell who has an account. An active device is never changed here: a
    re-pair of the same machine keeps its facts aside until its code is verified.
    """
    user = db.scalar(select(User).where(User.username == username))
    if user is None:
        return uuid.uuid4()
    device = db.scalar(
        select(Device).where(Device.user_id == user.id, Device.hardware_id == facts.hardware_id)
    )
    if device is None:
        device = Device(user_id=user.id, hardware_id=facts.hardware_id, status="pending")
        db.add(device)
    if device.status == "active":
        device.pending_name = facts.name
        device.pending_platform = facts.platform
        device.pending_os_version = facts.os_version
    else:
        device.name = facts.name
        device.platform = facts.platform
        device.os_version = facts.os_version
        device.status = "pending"
    device.verification_code = f"{secrets.randbelow(1_000_000):06d}"
    device.code_expires_at = datetime.now(UTC) + CODE_TTL
    device.code_attempts = 0  # this code's own tries; the account's count is never reset here
    db.flush()
    _drop_oldest_requests(db, user.id)
    return device.id


def _drop_oldest_requests(db: DbSession, user_id: uuid.UUID) -> None:
    waiting = db.scalars(
        select(Device)
        .where(Device.user_id == user_id, Device.verification_code.is_not(None))
        .order_by(Device.code_expires_at.desc(), Device.id)
    ).all()
    for device in waiting[MAX_PAIRING_REQUESTS:]:
        if device.status == "pending" and device.token_generation == 0:
            db.delete(device)  # never paired: nothing of it remains
            continue
        _clear_request(device)
        if device.status == "pending":
            device.status = "revoked"
    db.flush()


def _clear_request(device: Device) -> None:
    device.verification_code = None
    device.code_expires_at = None
    device.pending_name = device.pending_platform = device.pending_os_version = None


@dataclass(frozen=True)
class Verification:
    """What a code check decided; the counts are saved even when it failed."""

    device: Device | None
    error: AppError | None


def _invalid() -> BadRequest:
    # One answer for an unknown device, a wrong, burnt or expired code: none tells which.
    return BadRequest(
        "the code is not valid; a code lasts 10 minutes and 5 tries, then pair again", code="invalid_code"
    )


def verify(db: DbSession, *, device_id: uuid.UUID, code: str) -> Verification:
    device = db.get(Device, device_id, with_for_update=True)
    if device is None:
        return Verification(None, _invalid())
    now = datetime.now(UTC)
    lock = _lock_of(db, device.user_id, now)
    if lock.wrong_codes >= WRONG_CODES_PER_WINDOW:
        return Verification(None, _locked(lock.window_started_at + LOCK_WINDOW, now))
    if not code_is_live(device) or device.code_attempts >= MAX_CODE_ATTEMPTS:
        return Verification(None, _invalid())
    assert device.verification_code is not None
    if not hmac.compare_digest(device.verification_code.encode(), code.encode()):
        device.code_attempts += 1
        lock.wrong_codes += 1
        if device.code_attempts >= MAX_CODE_ATTEMPTS:
            _clear_request(device)
        return Verification(None, _invalid())
    if device.pending_name is not None:
        device.name = device.pending_name
        device.platform = device.pending_platform or ""
        device.os_version = device.pending_os_version or ""
    _clear_request(device)
    device.code_attempts = 0
    device.verified = True
    device.status = "active"
    device.token_generation += 1
    return Verification(device, None)


def _lock_of(db: DbSession, user_id: uuid.UUID, now: datetime) -> PairingLock:
    """The account's count of wrong codes, started afresh when its window has passed."""
    lock = db.get(PairingLock, user_id, with_for_update=True)
    if lock is None:
        lock = PairingLock(user_id=user_id, window_started_at=now, wrong_codes=0)
        db.add(lock)
    elif lock.window_started_at + LOCK_WINDOW <= now:
        lock.window_started_at = now
        lock.wrong_codes = 0
    return lock


def _locked(until: datetime, now: datetime) -> TooManyAttempts:
    return TooManyAttempts(
        f"pairing is locked until {until.isoformat(timespec='seconds')} after too many wrong codes",
        code="pairing_locked",
        retry_after=int((until - now).total_seconds()) + 1,
    )


def pairing_locked_until(db: DbSession, user_id: uuid.UUID) -> datetime | None:
    """When the account may pair again, while too many wrong codes lock it; else None."""
    lock = db.get(PairingLock, user_id)
    if lock is None or lock.wrong_codes < WRONG_CODES_PER_WINDOW:
        return None
    until = lock.window_started_at + LOCK_WINDOW
    return until if until > datetime.now(UTC) else None


def claims_for(device: Device) -> Claims:
    return Claims(
        kind="device", subject=device.id, user_id=device.user_id, generation=device.token_generation
    )


@dataclass(frozen=True)
class DeviceRef:
    """An authenticated device: all a sync call needs to know of it."""

    id: uuid.UUID
    user_id: uuid.UUID


_ACTIVE_DEVICE = (
    select(Device.user_id, Device.token_generation, User.disabled_at)
    .join(User, User.id == Device.user_id)
    .where(Device.id == bindparam("device_id"), Device.status == "active")
)


def authenticate(db: DbSession, claims: Claims) -> DeviceRef:
    """The active device a token names; any revoke or re-pairing ends older tokens.

    One plain row query (no ORM object): this runs before every sync call.
    """
    row = db.connection().execute(_ACTIVE_DEVICE, {"device_id": claims.subject}).first()
    if row is None or row.user_id != claims.user_id or row.token_generation != claims.generation:
        raise Unauthorized("this device has been revoked; pair it again", code="device_revoked")
    if row.disabled_at is not None:
        raise Unauthorized("this device's account is disabled", code="account_disabled")
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
    _clear_request(device)
    device.token_generation += 1
    return device
