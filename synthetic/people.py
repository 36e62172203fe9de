"""Synthetic people: who a worker is, apart from the posts they hold. Nobody here is real.

A person keeps their birth date, sex, ethnicity and qualification for life, across years and
across councils; posts come and go in `population`. The shares below are rough national shapes
of the children's social work workforce, good enough to make the files look like returns.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

import numpy as np

from orchestration.lib.sources.csww import spec

ETHNICITY_SHARES = {
    "WBRI": 60.0, "WIRI": 1.0, "WOTH": 6.0, "MWBC": 1.5, "MWBA": 0.7, "MWAS": 0.8, "MOTH": 1.0,
    "AIND": 2.0, "APKN": 2.5, "ABAN": 1.0, "AOTH": 1.5, "BCRB": 4.0, "BAFR": 8.0, "BOTH": 1.0,
    "CHNE": 0.3, "OOTH": 1.5, "REFU": 2.0, "NOBT": 4.0,
}  # fmt: skip
FEMALE_SHARE = 0.84
GENDER_NOT_RECORDED_SHARE = 0.01
"""GenderCurrent 0 (not known) or 9 (not specified); Sex, from 2024, is always M or F."""
QUAL_LEVEL_SHARES = {"1": 45.0, "2": 45.0, "3": 10.0}
QUALIFYING_INSTITUTIONS = (
    "Anglia Ruskin University", "Bournemouth University", "Canterbury Christ Church University",
    "Coventry University", "Goldsmiths, University of London", "Manchester Metropolitan University",
    "Northumbria University", "Sheffield Hallam University", "The Open University",
    "University of Bedfordshire", "University of Birmingham", "University of Bristol",
    "University of Central Lancashire", "University of East Anglia", "University of Hertfordshire",
    "University of Kent", "University of Leeds", "University of Nottingham", "University of Sussex",
    "University of York", "Qualified outside the UK",
)  # fmt: skip
STEP_UP_SHARE = 0.02
FRONTLINE_SHARE = 0.05
SWE_MULTIPLIER = 7_919_117
"""Coprime with 10**10, so id -> number is one-to-one: no two synthetic people share a number."""
SWE_DIGITS = 10**10

NEWLY_QUALIFIED, EXPERIENCED = "newly qualified", "experienced"
AGE_RANGES = {NEWLY_QUALIFIED: (22.0, 26.0, 38.0), EXPERIENCED: (25.0, 40.0, 60.0)}
"""(youngest, typical, oldest) age at the census date of the year a person first appears."""

COLUMNS = {
    "birth": np.int32,
    "female": np.int8,
    "gender": np.int8,
    "ethnicity": np.int8,
    "qual_level": np.int8,
    "qual_inst": np.int16,
    "step_up": np.int8,
    "frontline": np.int8,
}


@cache
def _cumulative_shares(shares: tuple[tuple[str, float], ...], codes: tuple[str, ...]) -> np.ndarray:
    unknown = {code for code, _ in shares} - set(codes)
    if unknown:
        raise ValueError(f"codes {sorted(unknown)} are not in the CSWW code list")
    weights = np.array([dict(shares).get(code, 0.0) for code in codes])
    return np.cumsum(weights / weights.sum())


def draw_codes(rng: np.random.Generator, shares: dict[str, float], codes: dict[str, str], size: int) -> np.ndarray:
    """Positions in `codes` (a spec code list) drawn with the given shares; unknown codes are a bug."""
    cumulative = _cumulative_shares(tuple(shares.items()), tuple(codes))
    return np.minimum(np.searchsorted(cumulative, rng.random(size), side="right"), len(codes) - 1).astype(np.int8)


class PersonRegistry:
    """Every synthetic person of a run, by id; ids are handed out in creation order."""

    def __init__(self, seed: int):
        self._swe_offset = (seed * 2_654_435_761) % SWE_DIGITS
        self._columns = {name: np.zeros(1024, dtype=dtype) for name, dtype in COLUMNS.items()}
        self.size = 0

    def add(self, rng: np.random.Generator, count: int, year: int, kind: str) -> np.ndarray:
        """Create `count` new people first seen in collection `year`; returns their ids."""
        fresh = _draw_people(rng, count, year, kind)
        self._reserve(self.size + count)
        ids = np.arange(self.size, self.size + count, dtype=np.int64)
        for name, values in fresh.items():
            self._columns[name][ids] = values
        self.size += count
        return ids

    def _reserve(self, needed: int) -> None:
        capacity = len(self._columns["birth"])
        if needed <= capacity:
            return
        while capacity < needed:
            capacity *= 2
        for name, values in self._columns.items():
            grown = np.zeros(capacity, dtype=values.dtype)
            grown[: self.size] = values[: self.size]
            self._columns[name] = grown

    def take(self, ids: np.ndarray) -> dict[str, np.ndarray]:
        return {name: values[ids] for name, values in self._columns.items()}

    def birth(self, ids: np.ndarray) -> np.ndarray:
        return self._columns["birth"][ids]

    def swe_numbers(self, ids: np.ndarray) -> list[str]:
        """Synthetic SWE numbers: 'SW' and ten digits, the XSD's [A-Za-z]{2}\\d{10}."""
        digits = (ids.astype(np.int64) * SWE_MULTIPLIER + self._swe_offset) % SWE_DIGITS
        return [f"SW{d:010d}" for d in digits.tolist()]


def _draw_people(rng: np.random.Generator, count: int, year: int, kind: str) -> dict[str, np.ndarray]:
    youngest, typical, oldest = AGE_RANGES[kind]
    age_days = rng.triangular(youngest, typical, oldest, size=count) * 365.25
    census = spec.reference_date(year).toordinal()
    qual_level = draw_codes(rng, QUAL_LEVEL_SHARES, spec.QUAL_LEVEL, count)
    step_up = rng.random(count) < STEP_UP_SHARE
    frontline = ~step_up & (rng.random(count) < FRONTLINE_SHARE)
    postgraduate = list(spec.QUAL_LEVEL).index("2")
    female = rng.random(count) < FEMALE_SHARE
    return {
        "birth": (census - age_days).astype(np.int32),
        "female": female.astype(np.int8),
        "gender": _gender_codes(rng, female),
        "ethnicity": draw_codes(rng, ETHNICITY_SHARES, spec.ETHNICITY, count),
        # Step Up and Frontline are postgraduate routes.
        "qual_level": np.where(step_up | frontline, postgraduate, qual_level).astype(np.int8),
        "qual_inst": rng.integers(0, len(QUALIFYING_INSTITUTIONS), size=count).astype(np.int16),
        "step_up": step_up.astype(np.int8),
        "frontline": frontline.astype(np.int8),
    }


def _gender_codes(rng: np.random.Generator, female: np.ndarray) -> np.ndarray:
    """Positions in spec.GENDER_CURRENT: female 2, male 1, a few not known (0) or not specified (9)."""
    codes = list(spec.GENDER_CURRENT)
    recorded = np.where(female, codes.index("2"), codes.index("1"))
    unrecorded = np.where(rng.random(len(female)) < 0.5, codes.index("0"), codes.index("9"))
    return np.where(rng.random(len(female)) < GENDER_NOT_RECORDED_SHARE, unrecorded, recorded).astype(np.int8)


def age_at(birth: np.ndarray, day: dt.date) -> np.ndarray:
    """Whole years of age on `day` (close enough for a synthetic population: 365.25-day years)."""
    return ((day.toordinal() - birth) / 365.25).astype(np.int64)
