"""Worker-roles ("posts"): what a person holds in one council, when it started and how it ended.

Codes are drawn from the spec's code lists with rough national shares. StartOrigin 2 ("social
worker role in a different LA in England") is kept for starters who really are leavers from
another synthetic council (see `population`), so every such starter can be traced.
"""

from __future__ import annotations

import numpy as np

from orchestration.lib.sources.csww import spec
from synthetic.people import draw_codes
from synthetic.tables import Table, concat, take

POST_COLUMNS: dict[str, type] = {
    "person": np.int64,
    "org_role": np.int8,
    "start": np.int32,
    "origin": np.int8,
    "weight": np.float64,
    "end": np.int32,
    "destination": np.int8,
    "reason": np.int8,
}
"""`weight` is the post's usual FTE, which a year's exact FTE follows; 0 in end/codes means none."""

# About half of the in-post FTE holds cases (DfE 2017-2024), mostly in OrgRole 5 and some in 4.
ORG_ROLE_SHARES = {"1": 2.0, "2": 5.0, "3": 14.0, "4": 14.0, "5": 42.0, "6": 23.0}
AGENCY_ORG_ROLE_SHARES = {"1": 2.0, "2": 5.0, "3": 10.0, "4": 6.0, "5": 70.0, "6": 7.0}
NEWLY_QUALIFIED_ORIGIN = 1
STARTER_ORIGIN_SHARES = {
    "1": 30.0,
    "3": 4.0,
    "4": 14.0,
    "5": 10.0,
    "6": 8.0,
    "7": 6.0,
    "8": 4.0,
    "9": 12.0,
    "10": 2.0,
}
EARLIER_ORIGIN_SHARES = {
    "1": 30.0,
    "2": 20.0,
    "3": 3.0,
    "4": 12.0,
    "5": 8.0,
    "6": 7.0,
    "7": 5.0,
    "8": 3.0,
    "9": 12.0,
}
"""Origins of posts that began before the first return this run writes for a council."""
DESTINATION_SHARES = {
    "1": 22.0,
    "2": 2.0,
    "3": 14.0,
    "4": 8.0,
    "5": 5.0,
    "6": 12.0,
    "7": 6.0,
    "8": 24.0,
    "9": 7.0,
}
REASON_SHARES = {"1": 62.0, "2": 1.0, "3": 1.0, "4": 3.0, "5": 7.0, "7": 3.0, "8": 8.0, "9": 13.0, "10": 2.0}
RETIRED, RESIGNED = 5, 1
OTHER_DESTINATION, OTHER_REASON = 7, 8
"""LeaverDestination and ReasonLeave "Other": someone leaving one of two posts and staying in the other."""
NO_EMPLOYMENT = 6
OTHER_LA = int(spec.LEAVER_DESTINATION_OTHER_LA)
SECOND_POST_ROLES = (6, 4, 3)
FULL_TIME_SHARE = 0.75
AGENCY_FULL_TIME_SHARE = 0.85
ADULT_START_AGE_DAYS = int(21.5 * 365.25)
LONGEST_SERVICE_DAYS = 12 * 365


def int_codes(rng: np.random.Generator, shares: dict[str, float], codes: dict[str, str], size: int) -> np.ndarray:
    keys = np.array([int(k) for k in codes], dtype=np.int8)
    return keys[draw_codes(rng, shares, codes, size)]


def year_start(year: int) -> int:
    return spec.collection_start(year).toordinal()


def census(year: int) -> int:
    return spec.reference_date(year).toordinal()


def usual_fte(rng: np.random.Generator, size: int, full_time_share: float = FULL_TIME_SHARE) -> np.ndarray:
    part_time = rng.uniform(0.4, 0.95, size=size)
    return np.where(rng.random(size) < full_time_share, 1.0, part_time)


def starts_in_year(rng: np.random.Generator, size: int, year: int, days_before_census: int = 0) -> np.ndarray:
    return rng.integers(year_start(year), census(year) - days_before_census + 1, size=size).astype(np.int32)


def starts_before_year(
    rng: np.random.Generator, births: np.ndarray, year: int, longest_days: int = LONGEST_SERVICE_DAYS
) -> np.ndarray:
    """Some day up to `longest_days` before the collection year, after the person turned 21."""
    first = year_start(year)
    earliest = np.minimum(births.astype(np.int64) + ADULT_START_AGE_DAYS, first - 1)
    start = first - rng.integers(1, longest_days, size=len(births))
    return np.maximum(start, earliest).astype(np.int32)


def new_posts(
    rng: np.random.Generator,
    persons: np.ndarray,
    starts: np.ndarray,
    origins: np.ndarray,
    role_shares: dict[str, float] = ORG_ROLE_SHARES,
    full_time_share: float = FULL_TIME_SHARE,
) -> Table:
    count = len(persons)
    roles = int_codes(rng, role_shares, spec.ORG_ROLE, count)
    # Newly qualified social workers start as case holders.
    roles = np.where(origins == NEWLY_QUALIFIED_ORIGIN, 5, roles).astype(np.int8)
    return {
        "person": persons.astype(np.int64),
        "org_role": roles,
        "start": starts.astype(np.int32),
        "origin": origins.astype(np.int8),
        "weight": usual_fte(rng, count, full_time_share),
        "end": np.zeros(count, dtype=np.int32),
        "destination": np.zeros(count, dtype=np.int8),
        "reason": np.zeros(count, dtype=np.int8),
    }


def second_posts(rng: np.random.Generator, posts: Table, count: int, latest_start: int | None) -> Table:
    """A further post for `count` people who hold one post here: another role, starting no earlier.

    With `latest_start` None the second post starts the day the first did: a starter then stays one
    starter, as DfE counts starters by person and start date. The second role differs from the
    first, so the (SWENo, agency, role, start) key stays unique.
    """
    _, first_rows, holdings = np.unique(posts["person"], return_index=True, return_counts=True)
    single = first_rows[holdings == 1]
    chosen = rng.permutation(single)[: min(count, len(single))]
    extra = take(posts, np.sort(chosen))
    choices = np.array(SECOND_POST_ROLES, dtype=np.int8)
    pick = rng.integers(0, len(choices), size=len(chosen))
    same = choices[pick] == extra["org_role"]
    extra["org_role"] = choices[np.where(same, (pick + 1) % len(choices), pick)]
    first_start = extra["start"].astype(np.int64)
    latest = first_start if latest_start is None else np.full(len(chosen), latest_start, dtype=np.int64)
    # A post of someone who has left must start before they left.
    latest = np.where(extra["end"] > 0, np.minimum(latest, extra["end"].astype(np.int64) - 1), latest)
    span = np.maximum(latest - first_start, 0)
    extra["start"] = (extra["start"] + (rng.random(len(chosen)) * (span + 1)).astype(np.int64)).astype(np.int32)
    extra["weight"] = rng.uniform(0.2, 0.5, size=len(chosen))
    return extra


def two_post_holders(posts: Table) -> np.ndarray:
    """People holding posts that began on different days: they can leave one and stay in another.

    Posts that began the same day cannot be told apart by a continuity check that matches a role by
    SWENo and RoleStartDate (rules.yml, leaver-still-in-post), so they do not count.
    """
    pairs = np.unique(np.stack([posts["person"], posts["start"].astype(np.int64)]), axis=1)
    persons, starts = np.unique(pairs[0], return_counts=True)
    return persons[starts > 1]


def with_second_posts(rng: np.random.Generator, posts: Table, share: float, latest_start: int | None) -> Table:
    count = int(rng.binomial(len(posts["person"]), share)) if len(posts["person"]) else 0
    return concat([posts, second_posts(rng, posts, count, latest_start)], POST_COLUMNS) if count else posts


def leave(rng: np.random.Generator, posts: Table, year: int, retiring: np.ndarray | None = None) -> Table:
    """End every post of these people on one day in the year, with a destination and reason per person."""
    persons, inverse = np.unique(posts["person"], return_inverse=True)
    count = len(persons)
    latest_start = np.full(count, year_start(year) - 1, dtype=np.int64)
    np.maximum.at(latest_start, inverse, posts["start"].astype(np.int64))
    span = census(year) - latest_start
    end = latest_start + 1 + (rng.random(count) * span).astype(np.int64)
    destination = int_codes(rng, DESTINATION_SHARES, spec.LEAVER_DESTINATION, count)
    reason = int_codes(rng, REASON_SHARES, spec.REASON_LEAVE, count)
    reason = np.where(destination == OTHER_LA, RESIGNED, reason)
    if retiring is not None:
        retired = np.zeros(count, dtype=bool)
        np.logical_or.at(retired, inverse, retiring)
        destination = np.where(retired, NO_EMPLOYMENT, destination)
        reason = np.where(retired, RETIRED, reason)
    ended = dict(posts)
    ended["end"] = end[inverse].astype(np.int32)
    ended["destination"] = destination[inverse].astype(np.int8)
    ended["reason"] = reason[inverse].astype(np.int8)
    return ended
