"""Signed bearer tokens (PyJWT, HS256) for devices and for signed-in users."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import jwt

from image_assistant.errors import Unauthorized

ALGORITHM = "HS256"
ISSUER = "image-assistant"

TokenKind = Literal["device", "session"]


@dataclass(frozen=True)
class Claims:
    kind: TokenKind
    subject: uuid.UUID  # device id or session id
    user_id: uuid.UUID
    generation: int


class TokenSigner:
    """Issues and checks tokens; whether the device/session still exists is checked elsewhere."""

    def __init__(self, secret: str) -> None:
        self._secret = secret

    def issue(self, claims: Claims, *, ttl_seconds: int) -> str:
        now = datetime.now(UTC)
        payload = {
            "iss": ISSUER,
            "typ": claims.kind,
            "sub": str(claims.subject),
            "uid": str(claims.user_id),
            "gen": claims.generation,
            "iat": now,
            "exp": now + timedelta(seconds=ttl_seconds),
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(payload, self._secret, algorithm=ALGORITHM)

    def read(self, token: str) -> Claims:
        try:
            payload = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "typ", "uid"]},
            )
            kind = payload["typ"]
            if kind not in ("device", "session"):
                raise Unauthorized("token is not valid", code="token_invalid")
            return Claims(
                kind=kind,
                subject=uuid.UUID(payload["sub"]),
                user_id=uuid.UUID(payload["uid"]),
                generation=int(payload.get("gen", 0)),
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("token has expired", code="token_expired") from exc
        except (jwt.InvalidTokenError, ValueError, KeyError, TypeError) as exc:
            raise Unauthorized("token is not valid", code="token_invalid") from exc
