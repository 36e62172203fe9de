"""DfE's group rows of one collection year (London sub-regions, regions, England) and the LA rows each adds up.

An LA row is filed under its region, or for London under Inner or Outer London, which together
make up London. A joint return ("314 / 318") is one row, so one member.
"""

from __future__ import annotations

from dataclasses import dataclass

from orchestration.lib.sources.dfe_release import as_number
from synthetic.release import Release

ENGLAND = "E92000001"


@dataclass(frozen=True)
class Group:
    area_code: str
    members: tuple[str, ...]
    """Every reporting unit whose row the group adds up, its subgroups' included."""
    direct_members: tuple[str, ...]
    """The units filed under this group itself rather than under one of its subgroups."""
    subgroups: tuple[str, ...]
    published: dict[str, str]

    def value(self, measure: str) -> float | None:
        return as_number(self.published.get(measure))


def _parent(release: Release, area_code: str) -> str:
    return release.region_of_sub_region.get(area_code, ENGLAND)


def _depth(release: Release, area_code: str) -> int:
    return 0 if area_code == ENGLAND else 1 + _depth(release, _parent(release, area_code))


def _area_codes(release: Release, filed: list[str]) -> set[str]:
    """The codes LA rows are filed under and every group above them, England included."""
    codes = {ENGLAND}
    for code in filed:
        while code != ENGLAND:
            codes.add(code)
            code = _parent(release, code)
    return codes


def year_groups(release: Release, year: int) -> list[Group]:
    """Every group of `year`, innermost first (sub-regions, regions, England), so subgroups precede their parent."""
    filed: dict[str, list[str]] = {}
    for unit in release.units(year):
        filed.setdefault(release.rows[(unit, year)].group, []).append(unit)
    published = {code: text for (code, row_year), text in release.group_totals.items() if row_year == year}
    published[ENGLAND] = release.england.get(year, {})
    groups: dict[str, Group] = {}
    for code in sorted(_area_codes(release, list(filed)), key=lambda c: (-_depth(release, c), c)):
        subgroups = tuple(sub for sub in groups if _parent(release, sub) == code)
        members = sorted([*filed.get(code, []), *(unit for sub in subgroups for unit in groups[sub].members)])
        groups[code] = Group(code, tuple(members), tuple(filed.get(code, [])), subgroups, published.get(code, {}))
    return list(groups.values())
