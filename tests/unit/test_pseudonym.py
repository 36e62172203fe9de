"""SWENo pseudonyms: where the key comes from, and what the pseudonym is."""

from __future__ import annotations

import hashlib
import hmac
import stat

import pytest

from orchestration.lib import paths
from orchestration.lib.load.pseudonym import (
    KEY_ENV,
    Pseudonymiser,
    PseudonymKeyError,
    ensure_local_key,
    load_key,
)

HEX_KEY = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Every test gets its own data dir and starts with no key in the environment."""
    monkeypatch.setenv("WORKFORCE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv(KEY_ENV, raising=False)


def test_env_key_in_hex_is_decoded(monkeypatch):
    monkeypatch.setenv(KEY_ENV, HEX_KEY)
    assert load_key() == bytes.fromhex(HEX_KEY)


def test_env_key_that_is_not_hex_is_used_as_text(monkeypatch):
    monkeypatch.setenv(KEY_ENV, "  correct horse battery staple  ")
    assert load_key() == b"correct horse battery staple"


def test_env_key_wins_over_the_key_file(monkeypatch):
    ensure_local_key()
    monkeypatch.setenv(KEY_ENV, HEX_KEY)
    assert load_key() == bytes.fromhex(HEX_KEY)


def test_blank_env_key_counts_as_unset(monkeypatch):
    monkeypatch.setenv(KEY_ENV, "   ")
    path = ensure_local_key()
    assert load_key() == bytes.fromhex(path.read_text().strip())


def test_short_key_is_refused(monkeypatch):
    monkeypatch.setenv(KEY_ENV, "abcd")
    with pytest.raises(PseudonymKeyError, match="at least 16"):
        load_key()


def test_no_key_anywhere_says_how_to_make_one():
    with pytest.raises(PseudonymKeyError) as raised:
        load_key()
    assert KEY_ENV in str(raised.value)
    assert str(paths.pseudonym_key_path()) in str(raised.value)


def test_ensure_local_key_writes_a_private_random_key_once():
    path = ensure_local_key()
    assert path == paths.pseudonym_key_path()
    text = path.read_text().strip()
    assert len(bytes.fromhex(text)) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ensure_local_key() == path
    assert path.read_text().strip() == text, "an existing key must never be replaced"
    assert load_key() == bytes.fromhex(text)


def test_ensure_local_key_writes_nothing_when_the_env_key_is_set(monkeypatch):
    monkeypatch.setenv(KEY_ENV, HEX_KEY)
    assert not ensure_local_key().exists()


def test_pseudonym_is_the_truncated_hmac_of_the_normalised_number():
    key = bytes.fromhex(HEX_KEY)
    expected = hmac.new(key, b"SW0000012345", hashlib.sha256).hexdigest()[:32]
    pseudonymise = Pseudonymiser(key)
    assert pseudonymise("SW0000012345") == expected
    assert pseudonymise(" sw0000012345\n") == expected
    assert pseudonymise("SW0000012345") == expected, "same input, same output on every call"


def test_pseudonym_depends_on_the_key_and_hides_the_number():
    one, two = Pseudonymiser(b"k" * 32), Pseudonymiser(b"K" * 32)
    assert one("SW0000012345") != two("SW0000012345")
    assert one("SW0000012345") != one("SW0000012346")
    assert "12345" not in one("SW0000012345")
    assert len(one("SW0000012345")) == 32


def test_pseudonymiser_refuses_a_short_key():
    with pytest.raises(PseudonymKeyError):
        Pseudonymiser(b"short")
