"""The notes every pack carries: flags first, then sources, missing values and definitions.

Flags come first because they change how a figure should be read: a joint return, figures that
belong to a predecessor council, or DfE's published figures standing in for a council's own.
"""

from __future__ import annotations

from orchestration.lib.publish.packs.format import long_date
from orchestration.lib.publish.packs.lookup import Council, year_span
from orchestration.lib.publish.packs.model import SYMBOLS, TREND_YEARS, Note, Pack
from orchestration.lib.publish.packs.suppression import SMALL_COUNT_LIMIT

FLAGS = "Flags"
ABOUT = "About this pack"
SOURCES = "Sources and licence"
MISSING = "Missing and suppressed values"
NEIGHBOURS = "Statistical neighbours"
DEFINITIONS = "Definitions"

OGL = (
    "Contains public sector information licensed under the Open Government Licence v3.0 "
    "(https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/)."
)

GENERAL_DEFINITIONS = (
    "Figures are at 30 September of each year; the collection year runs from 1 October of the year before. "
    "FTE is full-time equivalent. Social workers in post are the council's own (non-agency) child and family "
    "social workers; agency workers are counted separately.",
    "Statistical neighbours (pooled): the neighbours' summed counts taken as one ratio, as DfE builds regional "
    "and England figures. Mean (LAIT): the simple average of the neighbours' own rates, as in DfE's Local "
    "Authority Interactive Tool. Median (dashboard): the middle of the neighbours' rates, as in DfE's children's "
    "social care dashboard. 'Neighbours' is how many had a figure.",
    "Region and England figures are ratios of their councils' summed counts, never averages of council rates.",
    "Rank: 1 is best among all councils with a figure that year (a joint return counts once); for every ranked "
    "measure lower is better. Quartile band: A is the best quarter of councils, then B, C and D. Measures where "
    "neither a high nor a low value is better are not ranked.",
    "Change: this year's figure minus last year's, worked out from unrounded figures (percentage points, pp, for "
    "rates), so it can differ by 0.1 from the difference of the rounded figures shown.",
    "Figures are shown to DfE's published precision: rates, FTE, caseloads and days to one decimal place; "
    "headcounts and cases as whole numbers.",
)


def pack_notes(pack: Pack, every: dict[str, Council], replaced: tuple[str, ...]) -> list[Note]:
    notes = [Note(FLAGS, text) for text in flags(pack, every, replaced)]
    notes += [Note(ABOUT, text) for text in _about(pack)]
    notes += [Note(SOURCES, text) for text in _sources(pack)]
    notes += [Note(NEIGHBOURS, text) for text in _neighbours(pack, every)]
    notes += [Note(MISSING, text) for text in _missing(pack)]
    notes += [Note(DEFINITIONS, text) for text in GENERAL_DEFINITIONS]
    shown = [*pack.benchmark_measures, *pack.count_measures]
    notes += [Note(DEFINITIONS, pack.measures[m].definition, pack.measures[m].label) for m in shown]
    return notes


def flags(pack: Pack, every: dict[str, Council], replaced: tuple[str, ...]) -> list[str]:
    found = []
    unit, asked = pack.unit, pack.asked_for
    if unit.is_joint:
        names = " and ".join(every[code].name for code in unit.members)
        found.append(
            f"Joint return: {names} make one workforce return, reported as {unit.code}; every figure here is "
            "for the two councils together."
        )
        if asked.code != unit.code:
            found.append(
                f"You asked for {asked.label}. It has no workforce figures of its own, so this is the joint "
                f"unit's pack."
            )
    borrowed = sorted(y for y, s in pack.year_sources.items() if s.area_code != unit.code)
    if borrowed:
        before = pack.year_sources[borrowed[0]]
        area = every[before.area_code]
        same_area = sorted(area.successors) == sorted(unit.members)
        first_own = min(y for y, s in pack.year_sources.items() if s.area_code == unit.code)
        found.append(
            f"Reorganisation: {unit.name} took over from {area.label} in {first_own}. Figures for "
            f"{year_span(borrowed)} are those of {area.name}, "
            + (
                "which covered the same area."
                if same_area
                else "which covered a larger area (it was replaced by "
                + " and ".join(every[code].label for code in area.successors)
                + "), so they are not like for like."
            )
            + f" No change is shown from {borrowed[-1]} to {first_own}."
        )
    elif len(replaced) > 1 and min(pack.trend_years) > pack.year - TREND_YEARS + 1:
        first_own = min(pack.trend_years)
        names = ", ".join(every[code].label for code in replaced)
        found.append(
            f"Reorganisation: {unit.name} was formed from {names}. Their earlier figures cannot be combined "
            f"from published rates, so the trend starts in {first_own}."
        )
    if unit.successors:
        found.append(
            f"{unit.name} was replaced by " + " and ".join(every[code].label for code in unit.successors) + "."
        )
    found += source_flags(pack)
    judged = pack.judgement_in_force
    if judged and judged.judged_code != unit.code:
        why = (
            "the lead council of the joint return; Ofsted inspects each council separately"
            if judged.judged_code in unit.members
            else f"the council it replaced, as {unit.name} had not been inspected by then"
        )
        found.append(
            f"Ofsted: the judgement in force on 30 September {pack.year} is that of {judged.judged_name} "
            f"({judged.judged_code}), {why}."
        )
    return found


def source_flags(pack: Pack) -> list[str]:
    """Where each year's figures came from, newest first: the council's return, or DfE's and why."""
    by_status: dict[tuple[str, str], list[int]] = {}
    for year, source in pack.year_sources.items():
        by_status.setdefault((source.source, source.return_status), []).append(year)
    found = []
    for (source, status), years in sorted(by_status.items(), key=lambda item: -max(item[1])):
        span = year_span(years)
        if source == "council_return":
            found.append(f"{span}: figures recomputed by this warehouse from the council's own workforce return.")
        elif status == "quarantined":
            found.append(
                f"{span}: the council's return failed validation and is held back, so DfE's published figures "
                "are shown instead."
            )
        else:
            found.append(f"{span}: no council return was loaded, so these are DfE's published figures.")
    return found


def _about(pack: Pack) -> list[str]:
    version = f" (version {pack.published_version}, published {pack.published_at[:10]})" if pack.published_at else ""
    return [
        f"Children's social work workforce of {pack.unit.name} at 30 September {pack.year}, against its "
        f"statistical neighbours, the {pack.region_name} region and England, with trends for "
        f"{year_span(list(pack.trend_years))}. Built from the warehouse's published benchmark tables{version}.",
        "Aggregates only: no figure about an individual social worker is included. The council's own figures "
        f"about fewer than {SMALL_COUNT_LIMIT} people are withheld (see '{MISSING}').",
    ]


def _sources(pack: Pack) -> list[str]:
    sources = pack.year_sources.values()
    published = [s.year for s in sources if s.source == "dfe_published"]
    returned = [s.year for s in sources if s.source == "council_return"]
    found = []
    if published:
        found.append(
            "Department for Education, 'Children's social work workforce', Explore Education Statistics "
            f"(Indicators table), reporting years {year_span(published)}."
        )
    if returned:
        found.append(
            f"Council return: figures for {year_span(returned)} are computed by this warehouse from the council's "
            "CSWW census return, with DfE's definitions; they are not DfE's published figures."
        )
    found.append(
        "Neighbour, regional and England figures are computed from each council's figures (its return where "
        "loaded, otherwise DfE's); where every council in a region or in England has DfE's figures, DfE's own "
        "published regional or England figure is used."
    )
    found.append("Ofsted: local authority children's services inspection outcomes (ILACS), official statistics.")
    if pack.sn_model:
        found.append(
            f"Statistical neighbours: DfE's children's services statistical neighbours, {pack.sn_model} model."
        )
    found.append(OGL)
    return found


def _neighbours(pack: Pack, every: dict[str, Council]) -> list[str]:
    if not pack.neighbours:
        return []
    lead = every[pack.unit.members[0]]
    whose = f"{lead.name}, whose list the joint return uses" if pack.unit.is_joint else pack.unit.name
    names = "; ".join(council.label for council in pack.neighbours)
    return [
        f"DfE's {pack.sn_model} model lists these neighbours for {whose}: {names}.",
        "A neighbour that was reorganised or makes a joint return counts as the unit or units that reported "
        "that year (for example Cumbria as Cumberland and Westmorland and Furness from 2023), so the number "
        "contributing can differ from the number listed.",
    ]


def _missing(pack: Pack) -> list[str]:
    legend = "Symbols: " + "; ".join(f"{symbol} = {meaning}" for symbol, meaning in SYMBOLS.items()) + "."
    found = [
        legend,
        f"This pack also shows c for any of the council's own figures about fewer than {SMALL_COUNT_LIMIT} people "
        "(from 1 to 4; zero is shown), and for any rate, rank, quartile band or change built from such a count, "
        "since each would give the count back. Case holders have no published headcount, so in-post plus agency "
        "headcount stands for them; vacancies are posts, not people.",
    ]
    missing = pack.missing_values()
    order = list(pack.measures)
    for year in sorted(set(missing.time_period), reverse=True):
        this_year = missing[missing.time_period == year]
        for (symbol, meaning), group in this_year.groupby(["symbol", "symbol_meaning"], sort=True):
            labels = ", ".join(pack.measures[m].label for m in sorted(set(group.measure), key=order.index))
            found.append(f"{year} — {symbol}, {meaning}: {labels}.")
    return found


def symbol_key(pack: Pack) -> str:
    """One line naming each symbol the pack shows and why, for under a table."""
    shown = pack.figures[pack.figures.symbol != ""]
    pairs = dict.fromkeys(zip(shown.symbol, shown.symbol_meaning, strict=True))
    if not pairs:
        return ""
    return "Symbols: " + "; ".join(f"{symbol} = {meaning}" for symbol, meaning in pairs) + ". See the notes."


def ofsted_lines(pack: Pack) -> list[tuple[str, str]]:
    """(label, text) lines on the Ofsted judgement in force and each member council's latest inspection."""
    lines = []
    judged = pack.judgement_in_force
    if judged:
        whose = "" if judged.judged_code == pack.unit.code else f" ({judged.judged_name})"
        lines.append(
            (
                f"In force on 30 September {pack.year}{whose}",
                f"{judged.overall_effectiveness}: inspected {long_date(judged.inspection_date)}, "
                f"published {long_date(judged.publication_date)}",
            )
        )
    else:
        lines.append((f"In force on 30 September {pack.year}", "no ILACS judgement published by then"))
    for inspection in pack.latest_inspections:
        subs = "; ".join(f"{name}: {grade}" for name, grade in inspection.sub_judgements.items() if grade)
        lines.append(
            (
                f"Latest inspection of {inspection.council_name}",
                f"{inspection.overall_effectiveness}: {inspection.inspection_type} of "
                f"{long_date(inspection.inspection_date)}, published {long_date(inspection.publication_date)}"
                + (f" ({subs})" if subs else ""),
            )
        )
    lines += [(f"Latest inspection of {c.name}", "not inspected under ILACS yet") for c in pack.not_inspected]
    return lines
