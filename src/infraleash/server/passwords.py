"""Local accounts' passwords: argon2id hashes (argon2-cffi's current parameters), never the password itself."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from infraleash.errors import UsageError

MIN_LENGTH = 12
_hasher = PasswordHasher()  # argon2id


@cache
def _dummy() -> str:
    """Verifying against this when the name is unknown costs about a real check's time (no user enumeration)."""
    return _hasher.hash("infraleash-no-such-user")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_new_password(password: str) -> str:
    """The password, or a UsageError when it is too short to be one."""
    if len(password) < MIN_LENGTH:
        raise UsageError(f"password: at least {MIN_LENGTH} characters")
    return password


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash`` (False for no hash, in about the same time).

    The cost parameters are the stored hash's own (argon2 encodes them in it)."""
    try:
        return _hasher.verify(stored_hash or _dummy(), password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False
