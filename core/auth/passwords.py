"""Password hashing (argon2id) and the rules a new password must meet."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.errors import ValidationError

MIN_LENGTH = 12
MAX_LENGTH = 1024

_hasher = PasswordHasher()
# Verified against when the account is unknown, so a wrong email costs as long as a
# wrong password and timing tells nothing.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; an account without a hash never matches."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def check_new_password(new_password: str, current_password: str | None = None) -> None:
    """Raise ValidationError(field="new_password") when the new password breaks a rule."""
    if len(new_password) < MIN_LENGTH:
        raise ValidationError(
            f"The new password must have at least {MIN_LENGTH} characters.", field="new_password"
        )
    if len(new_password) > MAX_LENGTH:
        raise ValidationError(
            f"The new password must have at most {MAX_LENGTH} characters.", field="new_password"
        )
    if current_password is not None and new_password == current_password:
        raise ValidationError(
            "The new password must differ from the current one.", field="new_password"
        )


def generate_password() -> str:
    """A random password for the first admin (about 144 bits)."""
    return secrets.token_urlsafe(18)


def token_hash(token: str) -> str:
    """SHA-256 (hex) of a session or reset token, as the database stores it
    (auth_token_hash, migration 0012). Tokens are long and random, so a fast hash
    suffices: the stored value cannot be turned back into a working token."""
    return hashlib.sha256(token.encode()).hexdigest()
