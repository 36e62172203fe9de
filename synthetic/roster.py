"""One council's return for one year: who holds which post, with every total adding up to its target.

People come from `population` (stayers, leavers, arrivals from other councils) or are new (starters,
agency workers, and the stock-flow gap fillers); `fte_cells` then sets FTE and case holders, and
`record_details` the rest of each record.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np

from orchestration.lib.sources.csww import spec
from synthetic.calibration import Targets
from synthetic.fte_cells import case_holders, cell_totals, cells_of, split_fte, usual_fte
from synthetic.measures import CENTI, MICRO
from synthetic.people import EXPERIENCED, NEWLY_QUALIFIED, PersonRegistry
from synthetic.posts import (
    AGENCY_FULL_TIME_SHARE,
    AGENCY_ORG_ROLE_SHARES,
    EARLIER_ORIGIN_SHARES,
    NEWLY_QUALIFIED_ORIGIN,
    POST_COLUMNS,
    STARTER_ORIGIN_SHARES,
    int_codes,
    leave,
    new_posts,
    second_posts,
    starts_before_year,
    starts_in_year,
    two_post_holders,
    with_second_posts,
    year_start,
)
from synthetic.record_details import (
    absence_at_census,
    cases_held,
    cfkss_status,
    contract_weeks,
    days_lost,
    pay,
)
from synthetic.records import (
    AGENCY,
    LEAVER,
    RECORD_COLUMNS,
    STAFF_IN_POST,
    STARTER,
    STARTER_LEAVER,
    STAYER,
)
from synthetic.tables import Table, concat, size, take

SECOND_POST_SHARE = 0.015
AGENCY_RETENTION = 0.6
AGENCY_STARTED_IN_YEAR = 0.7
AGENCY_LONGEST_DAYS = 3 * 365
STARTER_LEAVER_MIN_STAY_DAYS = 30
PAY_FLAG_SHARES = (0.5, 0.2, 0.3)
MAX_EXTRA_POSTS = 20


@dataclass
class Departures:
    """Who of last year's in-post people leave and stay, and how many more of each kind are needed."""

    stayers: Table
    leavers: Table
    unseen_stayers: int
    unseen_leavers: int
    starters_in_post: int
    starters_leaving: int
    left_without_record: int
    left_a_second_post: int


@dataclass
class Arrivals:
    """Leavers from other councils starting here (StartOrigin 2)."""

    persons: np.ndarray
    org_roles: np.ndarray
    weights: np.ndarray
    starts: np.ndarray


@dataclass
class Roster:
    unit: str
    year: int
    records: Table
    agency_cover_headcount: int
    pay_flags: tuple[int, ...]
    submitted: str
    continuity: dict[str, int] = field(default_factory=dict)

    def _posts(self, categories: tuple[int, ...]) -> Table:
        rows = np.flatnonzero(np.isin(self.records["category"], categories))
        return {name: self.records[name][rows] for name in POST_COLUMNS}

    def in_post_posts(self) -> Table:
        return self._posts(STAFF_IN_POST)

    def agency_posts(self) -> Table:
        return self._posts((AGENCY,))


# -- who holds the posts ---------------------------------------------------------------------------
def _add_people(rng: np.random.Generator, people: PersonRegistry, year: int, newly_qualified: np.ndarray) -> np.ndarray:
    ids = np.empty(len(newly_qualified), dtype=np.int64)
    ids[newly_qualified] = people.add(rng, int(newly_qualified.sum()), year, NEWLY_QUALIFIED)
    ids[~newly_qualified] = people.add(rng, int((~newly_qualified).sum()), year, EXPERIENCED)
    return ids


def _new_starters(
    rng: np.random.Generator, people: PersonRegistry, count: int, year: int, days_before_census: int = 0
) -> Table:
    origins = int_codes(rng, STARTER_ORIGIN_SHARES, spec.START_ORIGIN, count)
    persons = _add_people(rng, people, year, origins == NEWLY_QUALIFIED_ORIGIN)
    posts = new_posts(rng, persons, starts_in_year(rng, count, year, days_before_census), origins)
    return with_second_posts(rng, posts, SECOND_POST_SHARE, None)


def _earlier_posts(rng: np.random.Generator, people: PersonRegistry, count: int, year: int) -> Table:
    """People whose post began before the year but who were not in last year's return."""
    persons = people.add(rng, count, year, EXPERIENCED)
    starts = starts_before_year(rng, people.birth(persons), year)
    posts = new_posts(rng, persons, starts, int_codes(rng, EARLIER_ORIGIN_SHARES, spec.START_ORIGIN, count))
    return with_second_posts(rng, posts, SECOND_POST_SHARE, year_start(year) - 1)


def _arrival_posts(arrivals: Arrivals) -> Table:
    count = len(arrivals.persons)
    return {
        "person": arrivals.persons.astype(np.int64),
        "org_role": arrivals.org_roles.astype(np.int8),
        "start": arrivals.starts.astype(np.int32),
        "origin": np.full(count, int(spec.START_ORIGIN_OTHER_LA), dtype=np.int8),
        "weight": arrivals.weights.astype(np.float64),
        "end": np.zeros(count, dtype=np.int32),
        "destination": np.zeros(count, dtype=np.int8),
        "reason": np.zeros(count, dtype=np.int8),
    }


def _agency_posts(rng: np.random.Generator, people: PersonRegistry, pool: Table, headcount: int, year: int) -> Table:
    """Some of last year's agency workers stay on; the rest are new assignments."""
    persons = np.unique(pool["person"])
    kept = np.sort(rng.permutation(persons)[: min(headcount, round(AGENCY_RETENTION * len(persons)))])
    count = headcount - len(kept)
    ids = people.add(rng, count, year, EXPERIENCED)
    in_year = rng.random(count) < AGENCY_STARTED_IN_YEAR
    earlier = starts_before_year(rng, people.birth(ids), year, AGENCY_LONGEST_DAYS)
    starts = np.where(in_year, starts_in_year(rng, count, year), earlier)
    fresh = new_posts(rng, ids, starts, np.zeros(count), AGENCY_ORG_ROLE_SHARES, AGENCY_FULL_TIME_SHARE)
    return concat([take(pool, np.flatnonzero(np.isin(pool["person"], kept))), fresh], POST_COLUMNS)


def _groups(
    rng: np.random.Generator,
    people: PersonRegistry,
    departures: Departures,
    arrivals: Arrivals,
    agency_pool: Table,
    targets: Targets,
    year: int,
) -> dict[int, Table]:
    arrived = _arrival_posts(arrivals)
    starters = _new_starters(rng, people, departures.starters_in_post - len(arrivals.persons), year)
    leaving = _new_starters(rng, people, departures.starters_leaving, year, STARTER_LEAVER_MIN_STAY_DAYS)
    return {
        STAYER: concat(
            [departures.stayers, _earlier_posts(rng, people, departures.unseen_stayers, year)], POST_COLUMNS
        ),
        STARTER: concat([arrived, starters], POST_COLUMNS),
        STARTER_LEAVER: leave(rng, leaving, year),
        LEAVER: concat(
            [
                departures.leavers,
                leave(rng, _earlier_posts(rng, people, departures.unseen_leavers, year), year),
            ],
            POST_COLUMNS,
        ),
        AGENCY: _agency_posts(rng, people, agency_pool, targets.units["agency_headcount"], year),
    }


# -- enough posts for the FTE ----------------------------------------------------------------------
def _latest_start(category: int, year: int) -> int | None:
    """The latest start of a further post: before the year for people already here, else the day the
    first post started (a starter with two posts is one starter)."""
    return year_start(year) - 1 if category in (STAYER, LEAVER) else None


def _add_post(rng: np.random.Generator, groups: dict[int, Table], categories: tuple[int, ...], year: int) -> bool:
    """A second post for someone in the first of these groups who has one; False if nobody has."""
    for category in categories:
        extra = second_posts(rng, groups[category], 1, _latest_start(category, year))
        if size(extra):
            groups[category] = concat([groups[category], extra], POST_COLUMNS)
            return True
    return False


def _drop_second_post(groups: dict[int, Table], categories: tuple[int, ...]) -> bool:
    """Remove one later post of someone holding two in these groups; False if nobody does."""
    for category in categories:
        posts = groups[category]
        _, first = np.unique(posts["person"], return_index=True)
        later = np.setdiff1d(np.arange(size(posts)), first)
        if len(later):
            groups[category] = take(posts, np.setdiff1d(np.arange(size(posts)), later[-1:]))
            return True
    return False


def _ensure_two_post_holders(rng: np.random.Generator, groups: dict[int, Table], wanted: int, year: int) -> None:
    """At least `wanted` people in post holding two posts that began on different days (see
    `posts.two_post_holders`): stayers, whose second post began between their first's start and the year's."""
    holders = two_post_holders(concat([groups[STAYER], groups[STARTER]], POST_COLUMNS))
    missing = wanted - len(holders)
    if missing > 0:
        extra = second_posts(rng, groups[STAYER], missing, _latest_start(STAYER, year))
        groups[STAYER] = concat([groups[STAYER], extra], POST_COLUMNS)


def _ensure_capacity(rng: np.random.Generator, groups: dict[int, Table], targets: Targets, year: int) -> None:
    """Posts enough for each FTE total at up to 1 FTE each, and few enough for at least a millionth each.

    A published FTE above its headcount (Surrey 2020: 368.2 FTE, 321 people) needs second posts;
    one of almost nothing (Hull 2017: 5 leavers with 0.0 FTE) cannot take any. Agency workers never
    get a second post: DfE counts every agency record as a worker, so the records are the published
    headcount, and calibration keeps the agency FTE within it.
    """
    needs = (
        (STAFF_IN_POST, "inpost_fte"),
        ((LEAVER, STARTER_LEAVER), "leavers_fte"),
        ((STARTER, STARTER_LEAVER), "starters_fte"),
    )
    for categories, measure in needs:
        total = targets.units[measure]
        posts = sum(size(groups[c]) for c in categories)
        for _ in range(math.ceil(total / MICRO) - posts):
            if not _add_post(rng, groups, categories, year):
                break
        for _ in range(posts - total):
            if not _drop_second_post(groups, categories):
                break
    _ensure_stayer_capacity(rng, groups, targets, year)


def _ensure_stayer_capacity(rng: np.random.Generator, groups: dict[int, Table], targets: Targets, year: int) -> None:
    """Enough posts for in-post starters and stayers once the starters who left take their share.

    Starters' FTE less what the starters who left can hold must fit in-post starters; in-post FTE
    less what in-post starters can hold must fit stayers (Surrey 2020 needs both).
    """
    u = targets.units
    leaving, other_leavers = size(groups[STARTER_LEAVER]), size(groups[LEAVER])
    most_leaving = min(leaving * MICRO, u["leavers_fte"] - other_leavers)
    least_leaving = max(leaving, u["leavers_fte"] - other_leavers * MICRO)
    for _ in range(math.ceil((u["starters_fte"] - most_leaving) / MICRO) - size(groups[STARTER])):
        if not _add_post(rng, groups, (STARTER,), year):
            break
    starters_at_most = min(size(groups[STARTER]) * MICRO, u["starters_fte"] - least_leaving)
    for _ in range(math.ceil((u["inpost_fte"] - starters_at_most) / MICRO) - size(groups[STAYER])):
        if not _add_post(rng, groups, (STAYER,), year):
            break


# -- the return ------------------------------------------------------------------------------------
def _agency_cover_headcount(targets: Targets) -> int:
    """Agency people covering vacancies: the cover FTE over the agency FTE per person."""
    u = targets.units
    cover, agency, people = u["agency_cover_fte"] / CENTI, u["agency_fte"] / MICRO, u["agency_headcount"]
    if cover == 0:
        return 0
    per_person = agency / people if people and agency else 1.0
    return max(1, min(max(people, 1), round(cover / per_person)))


def _submitted(rng: np.random.Generator, year: int) -> str:
    day = spec.reference_date(year) + dt.timedelta(days=int(rng.integers(20, 120)))
    second = int(rng.integers(8 * 3600, 18 * 3600))
    return f"{day.isoformat()}T{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}Z"


def _records(groups: dict[int, Table]) -> Table:
    tables = [{**groups[c], "category": np.full(size(groups[c]), c, dtype=np.int8)} for c in sorted(groups)]
    return concat(tables, RECORD_COLUMNS)


def _fte_records(rng: np.random.Generator, groups: dict[int, Table], targets: Targets, year: int) -> Table:
    """Records with FTE and case holders; where the cells cannot balance, another draw of case holders,
    with a further post while someone holds only one (a council of two people may need both)."""
    for _ in range(MAX_EXTRA_POSTS):
        records = _records(groups)
        usual = usual_fte(records, targets)
        records["case_holder"] = case_holders(rng, records, usual, targets)
        cells = cells_of(records, records["case_holder"])
        totals = cell_totals(cells, usual, targets)
        if totals is not None:
            records["fte"] = split_fte(cells, totals, records["weight"])
            return records
        _add_post(rng, groups, (STAYER, STARTER), year)
    raise RuntimeError(f"no split of the FTE targets over the records: {targets.units}")


def build_roster(
    unit: str,
    year: int,
    targets: Targets,
    departures: Departures,
    arrivals: Arrivals,
    agency_pool: Table,
    people: PersonRegistry,
    rng: np.random.Generator,
    two_post_holders: int = 0,
) -> Roster:
    """One return; at least `two_post_holders` of its people in post hold two posts (for next year)."""
    groups = _groups(rng, people, departures, arrivals, agency_pool, targets, year)
    _ensure_two_post_holders(rng, groups, two_post_holders, year)
    _ensure_capacity(rng, groups, targets, year)
    records = _fte_records(rng, groups, targets, year)
    records["cases"] = cases_held(rng, records["case_holder"], records["fte"], targets.units["cases"])
    records["days_lost"] = days_lost(rng, records, targets.units["working_days_lost_fte"])
    records["absent"], records["absence_reason"] = absence_at_census(rng, records)
    records["cfkss"] = cfkss_status(rng, records, year)
    records["weeks"] = contract_weeks(records, year)
    records["salary"], records["retention_pay"], records["other_pay"] = pay(rng, records)
    order = np.lexsort((records["org_role"], records["start"], records["person"]))
    return Roster(
        unit=unit,
        year=year,
        records=take(records, order),
        agency_cover_headcount=_agency_cover_headcount(targets),
        pay_flags=tuple(rng.choice(3, size=len(spec.PAY_FLAG_NAMES), p=PAY_FLAG_SHARES).tolist()),
        submitted=_submitted(rng, year),
        continuity={
            "in_post_from_last_return": len(np.unique(departures.stayers["person"])),
            "in_post_not_in_last_return": departures.unseen_stayers,
            "leavers_from_last_return": len(np.unique(departures.leavers["person"])),
            "leavers_not_in_last_return": departures.unseen_leavers,
            "left_without_record": departures.left_without_record,
            "in_post_and_left_a_second_post": departures.left_a_second_post,
            "starters_from_other_councils": len(arrivals.persons),
        },
    )
