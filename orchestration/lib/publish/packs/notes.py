"""The notes every pack carries: flags first, then sources, returns, missing values and definitions.

Flags come first because they change how a figure should be read: synthetic demonstration data, a
joint return, figures that belong to a predecessor council, DfE's published figures standing in
for a council's own, or comparators that are provisional.
"""

from __future__ import annotations

from orchestration.lib import measures as registry
from orchestration.lib.publish.packs.format import long_date
from orchestration.lib.publish.packs.lookup import Council, year_span
from orchestration.lib.publish.packs.model import SYMBOLS, SYNTHETIC_BANNER, VALUE_SOURCES, WITHHELD_FLAG, Note, Pack
from orchestration.lib.publish.packs.suppression import SMALL_BASE_REASON, SMALL_COUNT_LIMIT

FLAGS = "Flags"
ABOUT = "About this pack"
SOURCES = "Sources and licence"
RETURNS = "Returns used"
MISSING = "Missing, suppressed and flagged values"
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
    "Region and England figures are DfE's published ones wherever DfE published them; the figure recomputed "
    "here from the councils' figures (a ratio of their summed counts, never an average of council rates) and "
    "the difference stand beside them. Before DfE publishes a year, the recomputed figure is used and marked "
    "provisional. DfE publishes no statistical-neighbour figures: those are always recomputed here.",
    "Rank: 1 is best among all councils ranked that year (a joint return counts once); for every ranked "
    "measure lower is better. Quartile band: A is the best quarter of councils, then B, C and D. Not ranked: "
    "measures where neither a high nor a low value is better, values DfE published as u (low reliability), x "
    "(not available), c or z, and values on a small base.",
    "Change: this year's figure minus last year's, worked out from unrounded figures (percentage points, pp, for "
    "rates), so it can differ by 0.1 from the difference of the rounded figures shown.",
    "Figures are shown to DfE's published precision: rates, FTE, caseloads and days to one decimal place; "
    "headcounts and cases as whole numbers.",
)


def pack_notes(pack: Pack, every: dict[str, Council], replaced: tuple[str, ...]) -> list[Note]:
    notes = [Note(FLAGS, text) for text in flags(pack, every, replaced)]
    notes += [Note(ABOUT, text) for text in _about(pack)]
    notes += [Note(SOURCES, text) for text in _sources(pack)]
    notes += [Note(RETURNS, text, term) for term, text in return_lines(pack)]
    notes += [Note(NEIGHBOURS, text) for text in _neighbours(pack, every)]
    notes += [Note(MISSING, text) for text in _missing(pack)]
    notes += [Note(DEFINITIONS, text) for text in GENERAL_DEFINITIONS]
    shown = [*pack.benchmark_measures, *pack.count_measures]
    notes += [Note(DEFINITIONS, pack.measures[m].definition, pack.measures[m].label) for m in shown]
    return notes


def flags(pack: Pack, every: dict[str, Council], replaced: tuple[str, ...]) -> list[str]:
    found = [SYNTHETIC_BANNER] if pack.is_synthetic else []
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
    elif len(replaced) > 1:
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
    found += _provisional_flags(pack)
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
    """Which return each year's figures come from and why, newest first, years with the same story together."""
    by_note: dict[str, list[int]] = {}
    for year, source in sorted(pack.year_sources.items(), reverse=True):
        by_note.setdefault(source.return_note, []).append(year)
    return [f"{year_span(years)}: {note}" for note, years in by_note.items() if note]


def _provisional_flags(pack: Pack) -> list[str]:
    """Years whose region or England figure is recomputed here because DfE has not published it yet."""
    frame = pack.figures[pack.figures.role.isin(("region", "england"))]
    years = sorted(set(frame[frame.value_source == "provisional"].time_period))
    if not years:
        return []
    return [
        f"{year_span(years)}: DfE has not published the region and England figures yet, so they are recomputed "
        "here from the councils' figures and marked provisional."
    ]


def return_lines(pack: Pack) -> list[tuple[str, str]]:
    """(year, what) per year: the return the figures come from (file sha256, when loaded) and why."""
    lines = []
    for year, source in sorted(pack.year_sources.items(), reverse=True):
        parts = [source.return_note]
        if source.return_file_sha256:
            loaded = f", loaded {source.return_loaded_at:%Y-%m-%d %H:%M} UTC" if source.return_loaded_at else ""
            made = f", made {source.return_generated_at}" if source.return_generated_at else ""
            parts.append(f"Return file sha256 {source.return_file_sha256}{loaded}{made}.")
        if source.quarantined_file_sha256:
            parts.append(f"Quarantined file sha256 {source.quarantined_file_sha256}.")
        if source.is_synthetic:
            parts.append("The return is synthetic demonstration data.")
        lines.append((pack.year_label(year), " ".join(part for part in parts if part)))
    return lines


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
        "Region and England: DfE's published figures wherever DfE published them, with the figure recomputed here "
        "from the councils' figures (each council's return where loaded, otherwise DfE's council figure) and the "
        "difference beside them; before DfE publishes a year, the recomputed figure, marked provisional."
    )
    found.append("Statistical neighbours: always recomputed here from the neighbours' figures, as DfE publishes none.")
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
    standing = pack.neighbour_grid()
    standing = standing[standing.standing_for != ""] if len(standing) else standing
    found = [f"DfE's {pack.sn_model} model lists these neighbours for {whose}: {names}."]
    found += [
        f"{row.neighbour_name} stands for the figures of {row.standing_for} in {pack.year}."
        for row in standing.itertuples(index=False)
    ]
    if pack.withheld_neighbours:
        names = ", ".join(council.name for _, council in pack.withheld_neighbours)
        found.append(
            f"{WITHHELD_FLAG.capitalize()}: DfE has not published {pack.year}, and the {pack.year} figures of {names} "
            f"(provisional, where they sent a return) are not shared with {pack.asked_for.name} under the "
            "data-sharing agreement, so they are shown as x; the neighbours' pooled figure, mean and median are "
            "worked out from every listed neighbour, theirs included."
        )
    if pack.withheld_from_ranking:
        found.append(
            f"Ranking: up to {pack.withheld_from_ranking} councils' provisional {pack.year} figures are not shared "
            f"with {pack.asked_for.name} under the data-sharing agreement and are left out of the ranking lists; "
            "ranks are among all councils ranked, so some rank numbers are missing."
        )
    found.append(
        "Each listed neighbour counts once in the mean and median (a neighbour reorganised into two councils, "
        "such as Cumbria, takes their combined figure); the pooled figure sums every council standing for them "
        "once. A neighbour's value DfE published as u or x, or on a small base, is shown but left out of the mean "
        "and median."
    )
    return found


def _missing(pack: Pack) -> list[str]:
    legend = "Symbols: " + "; ".join(f"{symbol} = {meaning}" for symbol, meaning in SYMBOLS.items()) + "."
    ranked = registry.ranked_symbols()
    unranked = ", ".join(symbol for symbol in SYMBOLS if symbol not in ranked)
    found = [
        legend,
        f"This pack also shows c for any of the council's own figures about fewer than {SMALL_COUNT_LIMIT} people "
        "(from 1 to 4; zero is shown), and for any rate, rank, quartile band or change built from such a count, "
        "since each would give the count back. Case holders have no published headcount, so in-post plus agency "
        "headcount stands for them; vacancies are posts, not people.",
        "Where DfE published a symbol for a figure this warehouse recomputes from the council's return, the value "
        f"is shown with DfE's symbol beside it; under {unranked} it is not ranked or banded.",
        f"Flag 'small base': a rate with {SMALL_BASE_REASON}.",
    ]
    order = list(pack.measures)
    flagged = pack.flagged_values()
    for year in sorted(set(flagged.time_period), reverse=True):
        this_year = flagged[flagged.time_period == year]
        withheld = this_year[this_year.symbol != ""]
        for (symbol, meaning), group in withheld.groupby(["symbol", "symbol_meaning"], sort=True):
            labels = ", ".join(pack.measures[m].label for m in sorted(set(group.measure), key=order.index))
            found.append(f"{year} — {symbol}, {meaning}: {labels}.")
        shown = this_year[this_year.flag != ""]
        for (flag, meaning), group in shown.groupby(["flag", "flag_meaning"], sort=True):
            labels = ", ".join(pack.measures[m].label for m in sorted(set(group.measure), key=order.index))
            found.append(f"{year} — shown with {flag} ({meaning}): {labels}.")
    return found


def symbol_key(pack: Pack) -> str:
    """One line naming each symbol and flag the pack shows and why, for under a table."""
    shown = pack.figures[pack.figures.symbol != ""]
    pairs = dict.fromkeys(zip(shown.symbol, shown.symbol_meaning, strict=True))
    flagged = pack.figures[pack.figures.flag != ""]
    pairs |= dict.fromkeys(zip(flagged.flag, flagged.flag_meaning, strict=True))
    if not pairs:
        return ""
    return "Symbols and flags: " + "; ".join(f"{symbol} = {meaning}" for symbol, meaning in pairs) + ". See the notes."


def source_text(value_source: str) -> str:
    """How a comparator's source reads: 'DfE's published figure', 'provisional: …'."""
    return VALUE_SOURCES.get(value_source, value_source)


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
