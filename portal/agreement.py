"""The data-sharing agreement: which councils take part, from when, and what each shares.

It is data (`portal/agreement.toml`, or the file named by WORKFORCE_PORTAL_AGREEMENT), read and
checked here; every access decision that depends on it goes through `Agreement`.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PATH = Path(__file__).with_name("agreement.toml")

SHARE_NONE, SHARE_NEIGHBOURS, SHARE_PARTICIPANTS = "none", "neighbours", "participants"
SHARING_CHOICES = (SHARE_NONE, SHARE_NEIGHBOURS, SHARE_PARTICIPANTS)
_CODE = re.compile(r"^\d{3}$")
_TOP_KEYS = {"title", "reference", "signed", "participants"}
_ENTRY_KEYS = {"old_la_codes", "joined", "left", "shares_provisional_with"}


class AgreementError(ValueError):
    """The agreement file is not valid; the message says where and how to fix it."""


@dataclass(frozen=True)
class Participant:
    old_la_code: str
    joined: dt.date
    left: dt.date | None
    shares_provisional_with: str

    def active_on(self, day: dt.date) -> bool:
        return self.joined <= day and (self.left is None or day <= self.left)


@dataclass(frozen=True)
class Agreement:
    title: str
    reference: str
    signed: dt.date | None
    participants: dict[str, Participant]

    def participant(self, old_la_code: str, day: dt.date | None = None) -> Participant | None:
        """The council's terms if it takes part on `day` (default today), else None."""
        found = self.participants.get(old_la_code)
        if found is None or not found.active_on(day or dt.date.today()):
            return None
        return found

    def shares_provisional(self, owner: str, viewer: str, owner_neighbours: frozenset[str]) -> bool:
        """May `viewer`'s users see `owner`'s provisional figures? Both must take part today."""
        if owner == viewer:
            return True
        terms, viewing = self.participant(owner), self.participant(viewer)
        if terms is None or viewing is None:
            return False
        if terms.shares_provisional_with == SHARE_PARTICIPANTS:
            return True
        return terms.shares_provisional_with == SHARE_NEIGHBOURS and viewer in owner_neighbours


def _date(value: object, where: str) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    raise AgreementError(f"{where} must be a date written as YYYY-MM-DD (no quotes), not {value!r}.")


def load(path: Path | None = None) -> Agreement:
    """Read and check the agreement; raises AgreementError naming the file and the entry."""
    path = path or DEFAULT_PATH
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise AgreementError(f"The data-sharing agreement {path} does not exist.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise AgreementError(f"The data-sharing agreement {path} is not valid TOML: {exc}.") from exc
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise AgreementError(f"{path}: unknown setting(s) {', '.join(sorted(unknown))}; allowed: {sorted(_TOP_KEYS)}.")
    participants: dict[str, Participant] = {}
    for number, entry in enumerate(data.get("participants", []), start=1):
        where = f"{path}, participants entry {number}"
        unknown = set(entry) - _ENTRY_KEYS
        if unknown:
            raise AgreementError(
                f"{where}: unknown key(s) {', '.join(sorted(unknown))}; allowed: {sorted(_ENTRY_KEYS)}."
            )
        sharing = entry.get("shares_provisional_with", SHARE_NONE)
        if sharing not in SHARING_CHOICES:
            raise AgreementError(f"{where}: shares_provisional_with must be one of {SHARING_CHOICES}, not {sharing!r}.")
        joined = _date(entry.get("joined"), f"{where}: joined")
        left = _date(entry["left"], f"{where}: left") if "left" in entry else None
        for code in entry.get("old_la_codes", []):
            if not isinstance(code, str) or not _CODE.match(code):
                raise AgreementError(f'{where}: {code!r} is not a 3-digit DfE LA code in quotes, e.g. "301".')
            if code in participants:
                raise AgreementError(f"{where}: council {code} is listed twice; keep one entry per council.")
            participants[code] = Participant(code, joined, left, sharing)
    signed = data.get("signed")
    return Agreement(
        title=str(data.get("title", "Data-sharing agreement")),
        reference=str(data.get("reference", "")),
        signed=_date(signed, f"{path}: signed") if signed is not None else None,
        participants=participants,
    )
