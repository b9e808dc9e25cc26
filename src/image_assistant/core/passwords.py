"""Password hashing (argon2id) for accounts and share links: one hasher for the process.

Its cost is argon2's default; a test run may lower it to argon2's minimum
(IMAGE_ASSISTANT_TEST_CHEAP_PASSWORD_HASHES), since the test suite hashes and verifies
passwords thousands of times. Either hasher verifies the other's hashes (the parameters are
in the hash), and a sign-in rehashes a password made at the other cost.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_DEFAULT = PasswordHasher()
_CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
_hasher = _DEFAULT
_dummy: dict[int, str] = {}


def use_cheap_hashes(cheap: bool) -> None:
    """Hash at argon2's minimum cost (tests only) or at its default."""
    global _hasher
    _hasher = _CHEAP if cheap else _DEFAULT
    dummy_hash()  # made now, so the first sign-in of an unknown name takes no longer than others


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def matches(password_hash: str, password: str) -> bool:
    """Whether `password` is the one hashed; a malformed hash matches nothing."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def dummy_hash() -> str:
    """A hash at the current cost, verified against when there is no account, so that both
    paths take the same time."""
    key = id(_hasher)
    if key not in _dummy:
        _dummy[key] = _hasher.hash("not-a-real-password")
    return _dummy[key]
