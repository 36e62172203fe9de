"""Small-number suppression for a council's own figures in a pack.

A peer pack is sent outside the council, so it follows DfE's disclosure convention on top of
what DfE itself published: a figure about fewer than five people is shown as `c`, and so is any
rate built from such a count (a rate over a known denominator gives the count back). Zero is
shown: it describes nobody. The rule applies to the council's own figures only; neighbour,
regional and England figures pool many councils.

Each measure names the headcounts of the people it describes. A group of several headcounts is
summed first: case holders (agency included) have no headcount of their own, so in-post plus
agency headcount stands for them. Vacancies are posts, not people, so the vacancy count is never
suppressed; the vacancy rate is, when the in-post count it is built from is small.
"""

from __future__ import annotations

from collections.abc import Mapping

from orchestration.lib import measures as registry

SMALL_COUNT_LIMIT = 5
SMALL_COUNT_SYMBOL = "c"
SMALL_COUNT_REASON = f"fewer than {SMALL_COUNT_LIMIT} people (withheld in this pack)"

# A rate on a small base is shown, not withheld, but flagged and not ranked (the marts decide it,
# from `vars: small_base_denominator:`; this is how a pack says so).
SMALL_BASE_REASON = (
    f"fewer than {registry.small_base_denominator():g} FTE (people, for a headcount rate) "
    "in the denominator, so it is not ranked"
)

_INPOST = ("inpost_headcount",)
_STARTERS = ("starters_headcount",)
_LEAVERS = ("leavers_headcount",)
_AGENCY = ("agency_headcount",)
_CASE_HOLDERS = ("inpost_headcount", "agency_headcount")

PEOPLE_BASES: dict[str, tuple[tuple[str, ...], ...]] = {
    "inpost_fte": (_INPOST,),
    "inpost_headcount": (_INPOST,),
    "starters_fte": (_STARTERS,),
    "starters_headcount": (_STARTERS,),
    "leavers_fte": (_LEAVERS,),
    "leavers_headcount": (_LEAVERS,),
    "turnover_rate_fte": (_LEAVERS, _INPOST),
    "turnover_rate_headcount": (_LEAVERS, _INPOST),
    "agency_fte": (_AGENCY,),
    "agency_headcount": (_AGENCY,),
    "agency_rate_fte": (_AGENCY, _INPOST),
    "agency_rate_headcount": (_AGENCY, _INPOST),
    "agency_cover_fte": (_AGENCY,),
    "agency_cover_rate_fte": (_AGENCY,),
    "vacancy_fte": (),
    "vacancy_rate_fte": (_INPOST,),
    "vacancy_agency_cover_rate_fte": (_AGENCY,),
    "case_holders_fte": (_CASE_HOLDERS,),
    "cases": (_CASE_HOLDERS,),
    "caseload_fte": (_CASE_HOLDERS,),
    "working_days_lost_fte": (_INPOST,),
    "absence_rate_fte": (_INPOST,),
}


def is_small(measure: str, headcounts: Mapping[str, int | None], dfe_symbols: Mapping[str, str]) -> bool:
    """True when `measure` describes 1 to 4 people in one of its groups.

    A headcount DfE itself suppressed as `c` counts as small; one it withheld for another reason
    (`u`, `x`) is unknown, and an unknown group is not suppressed: DfE published the figure.
    """
    for group in PEOPLE_BASES[measure]:
        if any(dfe_symbols.get(column) == SMALL_COUNT_SYMBOL for column in group):
            return True
        values = [headcounts.get(column) for column in group]
        if any(value is None for value in values):
            continue
        if 0 < sum(values) < SMALL_COUNT_LIMIT:
            return True
    return False
