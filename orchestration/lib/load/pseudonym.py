"""Keyed pseudonyms for Social Work England registration numbers (SWENo).

SWE numbers are on Social Work England's public register, so a plain hash of one can be reversed
by hashing every possible number. A keyed hash (HMAC-SHA256 with a secret key kept outside the
repository) cannot be reversed without the key, yet the same worker gets the same pseudonym in
every return, which is what headcounts and year-to-year tracking need.

The same reasoning is why the parser keeps only the month of a birth date: age at 30 September to
within a month is all the analysis needs, and an exact birth date next to a public registration
record would make re-identification easier.

The key comes from the environment variable WORKFORCE_PSEUDONYM_KEY (hex, or any other text) or,
when that is unset, from the local key file `paths.pseudonym_key_path()`. Changing the key changes
every pseudonym, so a deployment must keep its key for as long as it keeps its warehouse.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from orchestration.lib import paths

KEY_ENV = "WORKFORCE_PSEUDONYM_KEY"
MIN_KEY_BYTES = 16
"""A shorter key could be guessed; 16 bytes (128 bits) is the floor, 32 is what ensure_local_key writes."""
PSEUDONYM_LENGTH = 32
"""Hex characters kept from the HMAC: 128 bits, so collisions in any real workforce are negligible."""


class PseudonymKeyError(RuntimeError):
    """The pseudonym key is missing or unusable."""


def _key_bytes(text: str, origin: str) -> bytes:
    """Hex text is the key's bytes; anything else is used as UTF-8 text."""
    text = text.strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = text.encode("utf-8")
    if len(key) < MIN_KEY_BYTES:
        raise PseudonymKeyError(
            f"The pseudonym key from {origin} is {len(key)} bytes; it must be at least {MIN_KEY_BYTES}. "
            "Use 64 hex characters, e.g. from `python -c 'import secrets; print(secrets.token_hex(32))'`."
        )
    return key


def _env_key() -> str | None:
    """The environment key, treating a blank value (e.g. `KEY=` in a compose file) as unset."""
    value = os.environ.get(KEY_ENV, "")
    return value if value.strip() else None


def load_key() -> bytes:
    """The pseudonym key: WORKFORCE_PSEUDONYM_KEY if set, else the local key file."""
    env_value = _env_key()
    if env_value is not None:
        return _key_bytes(env_value, f"the environment variable {KEY_ENV}")
    path = paths.pseudonym_key_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PseudonymKeyError(
            f"No pseudonym key: set {KEY_ENV} or create the key file {path} "
            f"(ensure_local_key() writes a new random one)."
        ) from None
    return _key_bytes(text, f"the key file {path}")


def ensure_local_key() -> Path:
    """Create the local key file (32 random bytes as hex, mode 0600) unless a key already exists.

    Returns the key file path. When WORKFORCE_PSEUDONYM_KEY is set nothing is written, because
    that key wins and a stray file would only invite confusion about which one is in use.
    """
    path = paths.pseudonym_key_path()
    if _env_key() is not None or path.exists():
        return path
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # O_EXCL: if another process created the file meanwhile, keep its key rather than replace it.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    return path


class Pseudonymiser:
    """Maps a SWENo to a stable pseudonym: HMAC-SHA256 of the upper-cased, stripped number.

    Upper-casing and stripping first makes "sw1234567890 " and "SW1234567890" the same person.
    """

    def __init__(self, key: bytes) -> None:
        if len(key) < MIN_KEY_BYTES:
            raise PseudonymKeyError(f"The pseudonym key must be at least {MIN_KEY_BYTES} bytes.")
        # Keying an HMAC costs two hash blocks; copying a keyed one per call is cheaper.
        self._keyed = hmac.new(key, digestmod=hashlib.sha256)

    def __call__(self, swe_no: str) -> str:
        mac = self._keyed.copy()
        mac.update(swe_no.strip().upper().encode("utf-8"))
        return mac.hexdigest()[:PSEUDONYM_LENGTH]
