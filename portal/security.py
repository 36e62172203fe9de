"""Secrets the portal hands out and how it checks them.

Passwords are hashed with Argon2id (memory-hard, argon2-cffi's defaults: 64 MiB, 3 passes).
Session ids and API tokens are 256-bit random values; only their SHA-256 is stored, so a copy of
the portal's database lets nobody sign in or call the API. CSRF tokens are per session and
compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

TOKEN_PREFIX = "wfp_"
"""API tokens start with this, so a leaked one is recognisable in logs and secret scanners."""
MIN_PASSWORD_LENGTH = 12

_hasher = PasswordHasher()
# Verified against when the account does not exist, so a wrong email takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def password_problem(password: str) -> str | None:
    """Why a chosen password is not acceptable, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Enter a password of at least {MIN_PASSWORD_LENGTH} characters."
    return None


def one_time_password() -> str:
    return secrets.token_urlsafe(15)


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def new_api_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """SHA-256 of a high-entropy secret (session id or token): what the store keeps."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a).encode(), str(b).encode())
