"""The rest of a record, once its FTE is set: cases, sickness, absence, status, assignment weeks, pay.

Totals that are published (cases, working days lost) are split exactly; the rest are drawn with
rough national shapes.
"""

from __future__ import annotations

import numpy as np

from orchestration.lib.sources.csww import spec
from synthetic.allocation import allocate
from synthetic.measures import BASE_WORKING_DAYS, CENTI, MICRO
from synthetic.people import draw_codes
from synthetic.posts import NEWLY_QUALIFIED_ORIGIN, census, year_start
from synthetic.records import AGENCY, STAFF_IN_POST
from synthetic.tables import Table, size

CASES_PER_WORKER_CAP = 45
SICKNESS_SHARE = 0.55
HALF_DAY = CENTI // 2
ABSENT_AT_CENSUS_SHARE = 0.04
ABSENCE_REASON_SHARES = {"SIC": 40.0, "MAT": 35.0, "OTH": 10.0, "TRN": 5.0, "UNP": 5.0, "PUB": 2.0, "UNA": 3.0}
PAY_BANDS = {1: (75_000, 95_000), 2: (58_000, 70_000), 3: (47_000, 56_000), 4: (42_000, 49_000),
             5: (36_000, 44_000), 6: (35_000, 42_000)}  # fmt: skip
"""Annual full-time base salary range (pounds) by OrgRole."""


def cases_held(rng: np.random.Generator, holders: np.ndarray, fte: np.ndarray, total: int) -> np.ndarray:
    """Cases30: the published cases over the case holders, at least one each, roughly by FTE.

    Nobody holds more than CASES_PER_WORKER_CAP unless the published total leaves no choice: the
    loader warns about caseloads above 60 at one worker as likely keying errors.
    """
    held = np.zeros(len(fte), dtype=np.int32)
    rows = np.flatnonzero(holders)
    if len(rows):
        weights = fte[rows] * rng.gamma(6.0, 1 / 6, size=len(rows))
        cap = max(CASES_PER_WORKER_CAP, -(-total // len(rows)))
        held[rows] = allocate(total, weights, 1, cap)
    return held


def days_lost(rng: np.random.Generator, records: Table, total: int) -> np.ndarray:
    """Sickness days (hundredths) of LA staff in post: about half lose none, nobody more than a year."""
    days = np.zeros(size(records), dtype=np.int64)
    rows = np.flatnonzero(np.isin(records["category"], STAFF_IN_POST))
    if total == 0 or len(rows) == 0:
        return days
    cap = records["fte"][rows] * BASE_WORKING_DAYS * CENTI // MICRO
    sick = rng.random(len(rows)) < SICKNESS_SHARE
    sick[rng.integers(len(rows))] = True
    upper = np.where(sick, cap, 0)
    if upper.sum() < total:
        upper = np.maximum(cap, total) if cap.sum() < total else cap
    # Someone off sick loses at least half a day where the total allows it.
    lower = np.where(sick & (upper > 0), min(HALF_DAY, total // int(sick.sum())), 0)
    days[rows] = allocate(total, rng.gamma(0.8, 1.0, size=len(rows)) * records["fte"][rows], lower, upper)
    return days


def absence_at_census(rng: np.random.Generator, records: Table) -> tuple[np.ndarray, np.ndarray]:
    staff = np.isin(records["category"], STAFF_IN_POST)
    absent = staff & (rng.random(size(records)) < ABSENT_AT_CENSUS_SHARE)
    reason = draw_codes(rng, ABSENCE_REASON_SHARES, spec.REASON_ABSENCE, size(records)) + 1
    return absent.astype(np.int8), np.where(absent, reason, 0).astype(np.int8)


def cfkss_status(rng: np.random.Generator, records: Table, year: int) -> np.ndarray:
    """Knowledge and skills status, 1-based: ASYE for newly qualified starters, then by role."""
    staff = np.isin(records["category"], STAFF_IN_POST)
    chance = rng.random(size(records))
    role = records["org_role"]
    asye = (records["origin"] == NEWLY_QUALIFIED_ORIGIN) & (records["start"] >= year_start(year) - 365)
    status = np.select(
        [
            asye,
            records["case_holder"] & (chance < 0.3),
            (role == 3) & (chance < 0.4),
            (role <= 2) & (chance < 0.3),
        ],
        [1, 2, 3, 4],
        default=0,
    )
    return np.where(staff, status, 0).astype(np.int8)


def contract_weeks(records: Table, year: int) -> np.ndarray:
    """Tenths of a week on assignment in the year, for agency workers."""
    since = np.maximum(records["start"].astype(np.int64), year_start(year))
    weeks = np.maximum((census(year) - since + 1) * 10 // 7, 1)
    return np.where(records["category"] == AGENCY, weeks, 0).astype(np.int32)


def pay(rng: np.random.Generator, records: Table) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Annual base salary by role band, scaled by FTE, and occasional retention and other payments (pence)."""
    count = size(records)
    low = np.array([PAY_BANDS[r][0] for r in records["org_role"].tolist()], dtype=float)
    high = np.array([PAY_BANDS[r][1] for r in records["org_role"].tolist()], dtype=float)
    fte = records["fte"] / MICRO
    salary = np.round(rng.uniform(low, high) * fte * 100)
    retention = np.where(rng.random(count) < 0.2, np.round(rng.uniform(500, 6000, count) * 100), 0)
    other = np.where(rng.random(count) < 0.1, np.round(rng.uniform(100, 1500, count) * 100), 0)
    employed = records["category"] != AGENCY
    return tuple(np.where(employed, pay, 0).astype(np.int64) for pay in (salary, retention, other))  # type: ignore[return-value]
