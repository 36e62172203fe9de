"""The synthetic workforce over time: the same people carried from year to year and council to council.

Each year, for each council, the people in post at last year's census are the pool. Published
counts decide how many leave (leavers headcount, less starters who also left within the year),
how many stay (in-post headcount less in-post starters) and how many start. Published counts do
not satisfy the stock-flow identity (last year's in post - leavers + starters = this year's in
post), so the gaps are closed and counted in each file's sidecar:

- too few people in the pool: people holding two posts leave one and stay in the other, so they
  are one leaver and one stayer ("in post, left a second post"). Each year, as many of a council's
  people as next year's published counts will need in this way hold two posts (see
  `two_post_holders_needed`); the second post is given a start before the collection year, which
  strictly the return before would have shown (no continuity check compares returns two years
  apart, and counting it there would move that year's published counts). Only if that is not
  enough are the extra stayers or leavers people
  whose post began before the collection year but who were not in last year's synthetic return
  ("not in last return"), which DfE's continuity checks would query;
- too many: the surplus leave the synthetic population without a leaver record ("left without
  record"); people reaching 67 go first, as retirements, so no one in a file is over 70.

Leavers whose destination is a social work role in another English council (LeaverDestination 1)
join next year's starters elsewhere, same region first, with StartOrigin 2 and the same SWENo.
When councils reorganise, the predecessor's people are shared among its successors in proportion
to the successors' in-post headcounts (Dorset 835 -> 838 and 839), keeping their posts' start dates.
"""

from __future__ import annotations

import math
import zlib
from collections import deque
from collections.abc import Iterator

import numpy as np

from orchestration.lib.sources.csww import spec
from synthetic.calibration import Targets
from synthetic.measures import MICRO
from synthetic.people import PersonRegistry, age_at
from synthetic.posts import (
    OTHER_DESTINATION,
    OTHER_LA,
    OTHER_REASON,
    POST_COLUMNS,
    census,
    leave,
    two_post_holders,
    year_start,
)
from synthetic.release import Release
from synthetic.roster import Arrivals, Departures, Roster, build_roster
from synthetic.tables import Table, concat, empty, size, take

STARTERS_WHO_LEAVE = 0.08
"""Share of a year's starters who also leave within it."""
MOVER_SHARE = 0.22
"""Share of a council's in-post starters who come from another council's leavers, where there are some."""
RETIREMENT_AGE = 67
TWO_POST_SPARE = 1.1
"""Two-post holders kept per person next year's counts need, for those who retire or cannot split."""
MOVER_COLUMNS: dict[str, type] = {
    "person": np.int64,
    "from_unit": np.int64,
    "region": np.int64,
    "org_role": np.int8,
    "weight": np.float64,
}
DEPARTURES, PLACEMENTS, INHERITANCE = 1, 2, 3


def starters_split(targets: Targets) -> tuple[int, int]:
    """(starters still in post, starters who left again) as whole people.

    Fewer starters leave where the published FTEs need them in post (Hull 2017: 11 starters with
    11.0 FTE, but 5 leavers with 0.0 FTE between them).
    """
    units = targets.units
    starters, in_post, leavers = (
        units["starters_headcount"],
        units["inpost_headcount"],
        units["leavers_headcount"],
    )
    fewest = max(starters - in_post, 0)
    leaving = min(max(round(STARTERS_WHO_LEAVE * starters), fewest), starters, leavers)
    while leaving > fewest and not _starters_fit(units, leaving):
        leaving -= 1
    return starters - leaving, leaving


def _starters_fit(units: dict[str, int], leaving: int) -> bool:
    """Whether the starters' FTE fits in posts of at most 1 FTE, given the leavers' FTE."""
    staying_capacity = (units["starters_headcount"] - leaving) * MICRO
    leaving_fte = min(leaving * MICRO, units["leavers_fte"] - (units["leavers_headcount"] - leaving))
    return staying_capacity + leaving_fte >= units["starters_fte"]


def _pool_split(people: int, leavers: int, stayers: int) -> tuple[int, int]:
    """How many of the pool leave and stay; a short pool serves both in proportion."""
    if people >= leavers + stayers:
        return leavers, stayers
    leaving = min(leavers, round(people * leavers / max(leavers + stayers, 1)))
    return leaving, min(stayers, people - leaving)


def _split_posts(rng: np.random.Generator, pool: Table, persons: np.ndarray, year: int) -> tuple[Table, Table]:
    """(the posts these people keep, the posts they leave): each keeps their earliest post.

    Leaving a second post while staying in another is neither a move to another council nor a
    retirement: destination and reason are "Other".
    """
    rows = np.flatnonzero(np.isin(pool["person"], persons))
    order = rows[np.lexsort((pool["start"][rows], pool["person"][rows]))]
    _, first = np.unique(pool["person"][order], return_index=True)
    kept = np.zeros(len(order), dtype=bool)
    kept[first] = True
    # A post that began the day the kept one did stays too: only a post of another start date ends.
    kept |= pool["start"][order] == np.repeat(pool["start"][order][first], np.diff(np.append(first, len(order))))
    ended = leave(rng, take(pool, order[~kept]), year)
    ended["destination"] = np.full(size(ended), OTHER_DESTINATION, dtype=np.int8)
    ended["reason"] = np.full(size(ended), OTHER_REASON, dtype=np.int8)
    return take(pool, order[kept]), ended


def plan_departures(
    rng: np.random.Generator, pool: Table, targets: Targets, year: int, people: PersonRegistry
) -> Departures:
    in_post_starters, leaving_starters = starters_split(targets)
    leavers_needed = targets.units["leavers_headcount"] - leaving_starters
    stayers_needed = targets.units["inpost_headcount"] - in_post_starters
    persons = np.unique(pool["person"])
    retiring = age_at(people.birth(persons), spec.reference_date(year)) >= RETIREMENT_AGE
    # Too few people: some holding two posts leave one and stay, so each is a leaver and a stayer.
    short = leavers_needed + stayers_needed - len(persons)
    two_posts = np.flatnonzero(np.isin(persons, two_post_holders(pool)) & ~retiring)
    splitting = rng.permutation(two_posts)[: max(0, min(short, len(two_posts), leavers_needed, stayers_needed))]
    split = np.zeros(len(persons), dtype=bool)
    split[splitting] = True
    # Retirements leave first; everyone else in random order.
    others = np.flatnonzero(~split)
    retiring_first = np.concatenate(
        [rng.permutation(others[retiring[others]]), rng.permutation(others[~retiring[others]])]
    )
    leaving_count, staying_count = _pool_split(
        len(others), leavers_needed - len(splitting), stayers_needed - len(splitting)
    )
    leaving = persons[retiring_first[:leaving_count]]
    rest = retiring_first[leaving_count:]
    staying = persons[rest[~retiring[rest]][:staying_count]]
    kept, ended = _split_posts(rng, pool, persons[splitting], year)
    leaver_rows = np.flatnonzero(np.isin(pool["person"], leaving))
    return Departures(
        stayers=concat([take(pool, np.flatnonzero(np.isin(pool["person"], staying))), kept], POST_COLUMNS),
        leavers=concat(
            [
                leave(
                    rng,
                    take(pool, leaver_rows),
                    year,
                    retiring=np.isin(pool["person"][leaver_rows], persons[retiring]),
                ),
                ended,
            ],
            POST_COLUMNS,
        ),
        unseen_stayers=stayers_needed - len(staying) - len(splitting),
        unseen_leavers=leavers_needed - len(leaving) - len(splitting),
        starters_in_post=in_post_starters,
        starters_leaving=leaving_starters,
        left_without_record=len(others) - len(leaving) - len(staying),
        left_a_second_post=len(splitting),
    )


class Population:
    """Every council's synthetic workforce, advanced one collection year at a time."""

    def __init__(self, seed: int, release: Release, targets: dict[tuple[str, int], Targets]):
        self.seed = seed
        self.release = release
        self.targets = targets
        self.people = PersonRegistry(seed)
        self.in_post: dict[str, Table] = {}
        self.agency: dict[str, Table] = {}
        self.movers = empty(MOVER_COLUMNS)
        self.unit_number = {unit: number for number, unit in enumerate(sorted({u for u, _ in release.rows}))}
        regions = sorted({row.group for row in release.rows.values()})
        self.region_number = {region: number for number, region in enumerate(regions)}

    def rng(self, year: int, stream: int, unit: str = "") -> np.random.Generator:
        """One generator per (seed, year, purpose, council), so no council's draws shift another's."""
        return np.random.default_rng([self.seed % 2**63, year, stream, zlib.crc32(unit.encode())])

    def years(self, last_year: int) -> Iterator[tuple[int, dict[str, Roster]]]:
        """Each collection year's returns, oldest first, up to `last_year`."""
        for year in self.release.years:
            if year > last_year:
                return
            yield year, self.advance(year)

    def advance(self, year: int) -> dict[str, Roster]:
        units = self.release.units(year)
        self.inherit(year)
        arrivals = self.place_movers(year, units)
        rosters: dict[str, Roster] = {}
        movers: list[Table] = []
        for unit in units:
            rng = self.rng(year, DEPARTURES, unit)
            targets = self.targets[(unit, year)]
            pool = self.in_post.pop(unit, empty(POST_COLUMNS))
            departures = plan_departures(rng, pool, targets, year, self.people)
            roster = build_roster(
                unit,
                year,
                targets,
                departures,
                arrivals[unit],
                self.agency.pop(unit, empty(POST_COLUMNS)),
                self.people,
                rng,
                two_post_holders=self.two_post_holders_needed(unit, year),
            )
            rosters[unit] = roster
            self.in_post[unit] = roster.in_post_posts()
            self.agency[unit] = roster.agency_posts()
            movers.append(self.movers_from(roster))
        self.movers = concat(movers, MOVER_COLUMNS)
        return rosters

    def two_post_holders_needed(self, unit: str, year: int) -> int:
        """How many of the council's people in post this year should hold two posts, so that next year's
        published counts need nobody who is not in this year's return.

        Next year needs in post + leavers - starters people from this year's in post; each person
        short is one who leaves one of two posts and stays (`plan_departures`). A few spare cover
        those who retire or are drawn otherwise.
        """
        following = self.targets.get((unit, year + 1))
        if following is None:
            return 0
        units = following.units
        needed = units["inpost_headcount"] + units["leavers_headcount"] - units["starters_headcount"]
        short = needed - self.targets[(unit, year)].units["inpost_headcount"]
        return math.ceil(short * TWO_POST_SPARE) + 1 if short > 0 else 0

    def movers_from(self, roster: Roster) -> Table:
        """This year's leavers to another council, one row per person."""
        records = roster.records
        rows = np.flatnonzero(records["destination"] == OTHER_LA)
        _, first = np.unique(records["person"][rows], return_index=True)
        leavers = take(records, rows[first])
        count = size(leavers)
        return {
            "person": leavers["person"],
            "from_unit": np.full(count, self.unit_number[roster.unit]),
            "region": np.full(count, self.region_number[self.release.rows[(roster.unit, roster.year)].group]),
            "org_role": leavers["org_role"],
            "weight": leavers["weight"],
        }

    # -- reorganisations -------------------------------------------------------------------------
    def inherit(self, year: int) -> None:
        for (predecessor, first_year), successors in sorted(self.release.successors.items()):
            present = [s for s in successors if (s, year) in self.targets]
            if first_year != year or not present or (predecessor, year) in self.targets:
                continue
            weights = np.array([self.inheritance_weight(s, year) for s in present])
            rng = self.rng(year, INHERITANCE, predecessor)
            for pools in (self.in_post, self.agency):
                posts = pools.pop(predecessor, None)
                if posts is not None:
                    self.share_out(rng, posts, present, weights / weights.sum(), pools)

    def inheritance_weight(self, successor: str, year: int) -> float:
        """A successor's in-post headcount, split evenly over the predecessors it draws on."""
        sources = sum(
            1 for (_, first), units in self.release.successors.items() if first == year and successor in units
        )
        return (self.targets[(successor, year)].units["inpost_headcount"] + 1) / sources

    @staticmethod
    def share_out(
        rng: np.random.Generator,
        posts: Table,
        successors: list[str],
        shares: np.ndarray,
        pools: dict[str, Table],
    ) -> None:
        persons, inverse = np.unique(posts["person"], return_inverse=True)
        destination = rng.choice(len(successors), size=len(persons), p=shares)[inverse]
        for number, successor in enumerate(successors):
            mine = take(posts, np.flatnonzero(destination == number))
            pools[successor] = concat([pools[successor], mine], POST_COLUMNS) if successor in pools else mine

    # -- moves between councils ------------------------------------------------------------------
    def place_movers(self, year: int, units: list[str]) -> dict[str, Arrivals]:
        """Last year's leavers to other councils, placed as this year's starters (own region first)."""
        rng = self.rng(year, PLACEMENTS)
        movers = self.movers
        order = rng.permutation(size(movers))
        queues: dict[int, deque[int]] = {}
        for row in order.tolist():
            queues.setdefault(int(movers["region"][row]), deque()).append(row)
        wanted = {unit: round(MOVER_SHARE * starters_split(self.targets[(unit, year)])[0]) for unit in units}
        placed: dict[str, list[int]] = {unit: [] for unit in units}
        for same_region in (True, False):
            for unit in units:
                region = self.region_number[self.release.rows[(unit, year)].group]
                sources = [queues.get(region, deque())] if same_region else list(queues.values())
                for queue in sources:
                    self.take_from(queue, placed[unit], wanted[unit], self.unit_number[unit], movers)
        return {
            unit: self.arrivals(rng, take(movers, np.array(rows, dtype=np.int64)), year)
            for unit, rows in placed.items()
        }

    @staticmethod
    def take_from(queue: deque[int], placed: list[int], wanted: int, unit: int, movers: Table) -> None:
        """Move rows from the queue to `placed` up to `wanted`; nobody returns to the council they left."""
        skipped = []
        while queue and len(placed) < wanted:
            row = queue.popleft()
            (skipped if movers["from_unit"][row] == unit else placed).append(row)
        queue.extendleft(reversed(skipped))

    @staticmethod
    def arrivals(rng: np.random.Generator, movers: Table, year: int) -> Arrivals:
        count = size(movers)
        starts = rng.integers(year_start(year), census(year) + 1, size=count).astype(np.int32)
        return Arrivals(persons=movers["person"], org_roles=movers["org_role"], weights=movers["weight"], starts=starts)
