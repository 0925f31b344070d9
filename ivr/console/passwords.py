"""Password hashing for console accounts: argon2id through ``argon2-cffi``.

The hash string carries its own parameters, so raising them later re-hashes each password the
next time its owner logs in (:func:`needs_rehash`).
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters

#: Shorter passwords are refused when an account is created or its password changed.
MIN_LENGTH = 10


class WeakPassword(ValueError):
    """A password too short to set."""


def hash_password(password: str) -> str:
    """A new argon2id hash of ``password``.

    Raises:
        WeakPassword: shorter than :data:`MIN_LENGTH` characters.
    """
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_LENGTH} characters")
    return _HASHER.hash(password)


def verify(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash`` (a malformed hash matches nothing)."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def unknown_account() -> str:
    """A hash to check a password against when the name has no account (equal cost)."""
    return _HASHER.hash("no account has this password")


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's."""
    return _HASHER.check_needs_rehash(password_hash)
