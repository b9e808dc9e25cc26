"""First run: the first account (an administrator) is made in the browser.

While no account exists, `serve` makes a one-time setup code, keeps its SHA-256 in the database
and writes the code (0600) into the data dir. A request from loopback with no proxy in front
needs no code; any other request must bring it. Once an account exists, setup is closed for good.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session as DbSession

from image_assistant.core import accounts
from image_assistant.db.models import ServerSetup, User
from image_assistant.errors import Conflict, Forbidden

CODE_FILE = "setup-code"
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off a terminal


def is_open(db: DbSession) -> bool:
    return not db.scalar(select(exists().where(User.id.is_not(None))))


def _digest(code: str) -> str:
    normalized = code.strip().upper().replace("-", "").replace(" ", "")
    return hashlib.sha256(normalized.encode()).hexdigest()


def new_code(db: DbSession, data_dir: Path) -> str | None:
    """A fresh setup code while setup is open (kept hashed, written 0600); None once it is closed."""
    code_path = data_dir / CODE_FILE
    if not is_open(db):
        code_path.unlink(missing_ok=True)
        return None
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(12))
    code = "-".join(raw[i : i + 4] for i in range(0, 12, 4))
    db.execute(delete(ServerSetup))
    db.add(ServerSetup(id=1, code_sha256=_digest(code)))
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(code_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(code + "\n")
    return code


def claim(
    db: DbSession, *, username: str, password: str, code: str | None, trusted_local: bool, data_dir: Path
) -> User:
    """Make the first account (an admin), if setup is still open and the caller may."""
    if not is_open(db):
        raise Conflict("this server is set up already; sign in", code="setup_closed")
    if not trusted_local:
        stored = db.scalar(select(ServerSetup.code_sha256).where(ServerSetup.id == 1))
        if not code:
            raise Forbidden("enter the setup code that `serve` printed", code="setup_code_required")
        if stored is None or not hmac.compare_digest(stored, _digest(code)):
            raise Forbidden("the setup code is not right", code="invalid_setup_code")
    user = accounts.create_user(db, username=username, password=password, is_admin=True)
    db.execute(delete(ServerSetup))
    (data_dir / CODE_FILE).unlink(missing_ok=True)
    return user


_FORWARDING_HEADERS = ("forwarded", "x-forwarded-for", "x-forwarded-host", "x-real-ip")


def is_trusted_local(client_host: str | None, header_names: set[str]) -> bool:
    """A request straight from this machine: loopback, and no proxy header (a proxy may be local)."""
    if client_host not in {"127.0.0.1", "::1", "localhost"}:
        return False
    return not any(name in header_names for name in _FORWARDING_HEADERS)
