"""FTE for every record of a return, adding up exactly to five overlapping published totals.

Records fall in eight FTE cells (stayer / in-post starter / agency, each case holder or not;
starters who left; other leavers). Five published totals overlap them:

    in post   = stay_case + stay_other + start_case + start_other
    agency    = agency_case + agency_other
    leavers   = starter_leaver + leaver
    starters  = start_case + start_other + starter_leaver
    case FTE  = stay_case + start_case + agency_case

so three cell totals are free. `feasible_point` picks them as near the records' usual FTE as every
cell's bounds (each record in (0, 1] FTE) allow; each cell's total is then split over its records.
"""

from __future__ import annotations

import math

import numpy as np

from synthetic.allocation import Inequality, allocate, feasible_point
from synthetic.calibration import Targets
from synthetic.measures import MICRO
from synthetic.records import (
    AGENCY,
    IN_POST,
    LEAVER,
    STAFF_IN_POST,
    STARTER,
    STARTER_LEAVER,
    STAYER,
)
from synthetic.tables import Table, size

CASE_PROPENSITY = {1: 0.01, 2: 0.03, 3: 0.12, 4: 0.6, 5: 0.9, 6: 0.1}
"""How likely each OrgRole is to hold cases: most case holders are OrgRole 5, some 4."""


def usual_fte(records: Table, targets: Targets) -> np.ndarray:
    """Each record's usual FTE scaled so that its group adds up to the published total."""
    usual = records["weight"].copy()
    for categories, measure in (
        (STAFF_IN_POST, "inpost_fte"),
        ((AGENCY,), "agency_fte"),
        ((STARTER_LEAVER, LEAVER), "leavers_fte"),
    ):
        rows = np.isin(records["category"], categories)
        if rows.any():
            usual[rows] *= targets.units[measure] / usual[rows].sum()
    return usual


def case_holders(rng: np.random.Generator, records: Table, usual: np.ndarray, targets: Targets) -> np.ndarray:
    """In-post records holding cases: by OrgRole propensity, as many as the case-holding FTE needs."""
    holders = np.zeros(size(records), dtype=bool)
    wanted, cases = targets.units["case_holders_fte"], targets.units["cases"]
    rows = np.flatnonzero(np.isin(records["category"], IN_POST))
    if wanted == 0 or cases == 0 or len(rows) == 0:
        return holders
    propensity = np.array([CASE_PROPENSITY[r] for r in records["org_role"][rows].tolist()])
    order = rows[np.argsort(-np.log(rng.random(len(rows))) / propensity, kind="stable")]
    count = int(np.searchsorted(np.cumsum(usual[order]), wanted)) + 1
    in_post = targets.units["inpost_fte"] + targets.units["agency_fte"]
    count = min(count, len(rows) - math.ceil((in_post - wanted) / MICRO))
    count = min(max(count, math.ceil(wanted / MICRO), 1), cases, len(rows))
    holders[order[:count]] = True
    return holders


# (category, holds cases) -> cell, numbered as in _cell_expressions.
CELL_OF = {(STAYER, True): 0, (STAYER, False): 1, (STARTER, True): 2, (STARTER, False): 3,
           (AGENCY, True): 4, (AGENCY, False): 5, (STARTER_LEAVER, False): 6, (LEAVER, False): 7}  # fmt: skip


def cells_of(records: Table, holders: np.ndarray) -> np.ndarray:
    """Each record's FTE cell."""
    code = records["category"].astype(np.int64) * 2 + holders
    lookup = np.full(2 * (AGENCY + 1), -1)
    for (category, holding), cell in CELL_OF.items():
        lookup[category * 2 + holding] = cell
    return lookup[code]


def _cell_expressions(targets: Targets) -> list[tuple[tuple[int, int, int], int]]:
    """Each cell's FTE as constant + coefficients . (agency_case, starter_leaver, start_case)."""
    u = targets.units
    inpost, agency, leavers = u["inpost_fte"], u["agency_fte"], u["leavers_fte"]
    starters, holders = u["starters_fte"], u["case_holders_fte"]
    return [
        ((-1, 0, -1), holders),  # stay_case = case FTE - start_case - agency_case
        ((1, 1, 1), inpost - holders - starters),  # stay_other, from the in-post total
        ((0, 0, 1), 0),  # start_case
        ((0, -1, -1), starters),  # start_other = starters - start_case - starter_leaver
        ((1, 0, 0), 0),  # agency_case
        ((-1, 0, 0), agency),  # agency_other
        ((0, 1, 0), 0),  # starter_leaver
        ((0, -1, 0), leavers),  # leaver
    ]


def cell_totals(cells: np.ndarray, usual: np.ndarray, targets: Targets) -> list[int] | None:
    """Each cell's FTE in millionths, or None when the records cannot carry the targets."""
    counts = np.bincount(cells, minlength=8)
    natural = np.bincount(cells, weights=usual, minlength=8)
    rows: list[Inequality] = []
    expressions = _cell_expressions(targets)
    for (coefs, constant), count in zip(expressions, counts.tolist(), strict=True):
        rows.append((coefs, count * MICRO - constant))
        rows.append((tuple(-c for c in coefs), constant - count))
    point = feasible_point(rows, [round(natural[4]), round(natural[6]), round(natural[2])])
    if point is None:
        return None
    return [constant + sum(c * x for c, x in zip(coefs, point, strict=True)) for coefs, constant in expressions]


def split_fte(cells: np.ndarray, totals: list[int], weights: np.ndarray) -> np.ndarray:
    """Every record's FTE in millionths, each cell's total split by the records' usual FTE."""
    fte = np.zeros(len(cells), dtype=np.int64)
    for cell, total in enumerate(totals):
        rows = np.flatnonzero(cells == cell)
        fte[rows] = allocate(total, weights[rows], 1, MICRO)
    return fte
