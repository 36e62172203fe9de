"""Build a pack's content from the published tables and nothing else.

Every number is a published value rounded half up, as DfE rounds, to the decimals DfE publishes
the measure to (`format.published`), so every format shows exactly the same figure and a reader
can check it against DfE. Where the council did not exist in an earlier year (North
Northamptonshire before 2021), the trend uses the single council it replaced, whose figures are
published under that council's code; the notes say so. A council's own figure about fewer than
five people, or one DfE suppressed, is withheld (see `suppression`); DfE's other symbols and
small bases are shown beside the value, which is then not ranked.
"""

from __future__ import annotations

import re

import pandas as pd

from orchestration.lib.publish.packs import suppression
from orchestration.lib.publish.packs.format import published
from orchestration.lib.publish.packs.lookup import (
    Council,
    choose_year,
    councils,
    predecessors,
    resolve,
    unit_years,
)
from orchestration.lib.publish.packs.model import (
    ENGLAND_CODE,
    FIGURE_COLUMNS,
    MISSING_SYMBOL,
    NEIGHBOUR_COLUMNS,
    PROVISIONAL_GROUP_MINIMUM,
    RANKING_COLUMNS,
    ROLES,
    SYMBOLS,
    THIN_PROVISIONAL_GROUP,
    WITHHELD_BY_AGREEMENT,
    WITHHELD_FLAG,
    Inspection,
    JudgementInForce,
    Measure,
    Pack,
    YearSource,
    load_measures,
)
from orchestration.lib.publish.packs.notes import pack_notes
from orchestration.lib.publish.packs.source import PublishedView, ViewOpener

_NOTE_PATTERN = re.compile(rf"(\w+) ({'|'.join(SYMBOLS)}): ([^;]+)")
SMALL_BASE_FLAG = "small base"


def build_pack(asked: str, year: int | None, open_view: ViewOpener) -> Pack:
    """The pack for the council `asked` (code, ONS code or name) in `year` (default: its latest),
    from the published version `open_view` gives, as that council may see it (source.py)."""
    with open_view() as view:
        measures = load_measures(view)
        every = councils(view)
        request = resolve(every, asked)
        unit = request.unit
        asked_for = request.asked_for
        view.act_for(asked_for.members[0] if asked_for.members else asked_for.code)
        replaced = predecessors(every, unit)
        chosen = choose_year(view, unit, year, replaced)
        chain = _figures_chain(view, unit, chosen, replaced)
        previous = chosen - 1 if chosen - 1 in chain else None

        unit_rows = _unit_rows(view, measures, chain)
        benchmark_rows = _benchmark_rows(view, chain)
        group_synthetic = _group_synthetic(view, chain)
        pooled = _pooled_councils(view, chain)
        neighbour_rows = _neighbour_rows(view, unit.code, chosen)
        ranking_rows = _ranking_rows(view, chosen)
        inspections = _latest_inspections(view, unit)
        version, published_at = view.version, view.published_at

    figures = _figures(measures, chain, chosen, previous, unit_rows, benchmark_rows, group_synthetic, pooled)
    sources = {
        year: YearSource(
            year,
            row["area_code"],
            row["area_name"],
            row["source"],
            row["return_status"],
            row["return_note"] or "",
            row["return_file_sha256"],
            row["return_loaded_at"],
            row["return_generated_at"],
            row["quarantined_file_sha256"],
            bool(row["is_synthetic"]),
        )
        for year, row in sorted(unit_rows.items())
    }
    sn_model = next((r["sn_model"] for r in benchmark_rows if r["time_period"] == chosen and r["sn_model"]), None)
    listed = sorted({(r["neighbour_rank"], r["neighbour_old_la_code"]) for r in neighbour_rows})
    withheld = _withheld_neighbours(unit, sn_model, listed, every)
    listed = sorted([*listed, *((rank, council.code) for rank, council in withheld)])
    pack = Pack(
        unit=unit,
        asked_for=request.asked_for,
        year=chosen,
        previous_year=previous,
        trend_years=tuple(sorted(chain)),
        measures=measures,
        figures=figures,
        year_sources=sources,
        sn_model=sn_model,
        neighbours=tuple(every[code] for _, code in listed if code in every),
        judgement_in_force=_judgement_in_force(benchmark_rows, unit.code, chosen, every),
        latest_inspections=tuple(i for i in inspections if i),
        not_inspected=tuple(every[c] for c, i in zip(unit.members, inspections, strict=True) if i is None),
        region_name=unit.region_name,
        published_version=version,
        published_at=published_at,
        withheld_neighbours=withheld,
    )
    pack.neighbours_table = _neighbours_table(pack, neighbour_rows, every)
    pack.ranking = _ranking(pack, ranking_rows)
    pack.withheld_from_ranking = _withheld_from_ranking(ranking_rows)
    pack.is_synthetic = bool(figures.is_synthetic.any()) or any(pack.ranking.is_synthetic_row)
    pack.ranking = pack.ranking.drop(columns="is_synthetic_row")
    pack.notes = pack_notes(pack, every, replaced)
    return pack


def _figures_chain(view: PublishedView, unit: Council, year: int, replaced: tuple[str, ...]) -> dict[int, str]:
    """Year → the code whose figures stand for the unit, back from `year` over every year held.

    Before a reorganisation the unit's figures are its predecessor's, but only when there was a
    single one: three councils became Bournemouth, Christchurch and Poole, and their rates cannot
    be combined from the published rates, so that trend starts in 2019.
    """
    own = set(unit_years(view, unit.code))
    before = set(unit_years(view, replaced[0])) if len(replaced) == 1 else set()
    chain: dict[int, str] = {}
    for candidate in range(year, min(own | before | {year}) - 1, -1):
        if candidate in own:
            chain[candidate] = unit.code
        elif candidate in before:
            chain[candidate] = replaced[0]
        else:
            break
    return chain


def _pack_years(chain: dict[int, str]) -> tuple[str, list]:
    """The (year, unit) pairs whose figures the pack shows, as a `pack_years` CTE and its arguments."""
    rows = ", ".join("(?, ?)" for _ in chain)
    return f"with pack_years (time_period, area_code) as (values {rows})", [v for pair in chain.items() for v in pair]


def _unit_rows(view: PublishedView, measures: dict[str, Measure], chain: dict[int, str]) -> dict[int, dict]:
    counts = ", ".join(f"i.{m.name}" for m in measures.values() if m.is_count)
    pack_years, args = _pack_years(chain)
    cursor = view.execute(
        f"""
        {pack_years}
        select i.time_period, i.area_code, i.area_name, i.source, i.return_status, i.return_note,
            i.return_file_sha256, i.return_loaded_at, i.return_generated_at, i.quarantined_file_sha256,
            i.is_synthetic, i.suppression_notes, {counts}
        from fct_workforce_indicators as i
        inner join pack_years as y on i.time_period = y.time_period and i.area_code = y.area_code
        where i.geographic_level = 'Local authority'
        """,
        args,
    )
    names = [d[0] for d in cursor.description]
    found = {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}
    for row in found.values():
        for name, measure in measures.items():
            if measure.is_count:
                row[name] = published(row[name], measure.decimals)
    return found


_ROUNDED_BENCHMARK_COLUMNS = (
    "la_value",
    "sn_pooled_value",
    "sn_mean_value",
    "sn_median_value",
    "region_value",
    "region_recomputed_value",
    "region_difference",
    "england_value",
    "england_recomputed_value",
    "england_difference",
    "change_from_previous_year",
)


def _benchmark_rows(view: PublishedView, chain: dict[int, str]) -> list[dict]:
    pack_years, args = _pack_years(chain)
    cursor = view.execute(
        f"""
        {pack_years}
        select
            b.time_period, b.old_la_code, b.la_name, b.region_code, b.region_name, b.measure, m.decimals,
            {", ".join(f"b.{column}" for column in _ROUNDED_BENCHMARK_COLUMNS)},
            b.la_dfe_status, b.is_small_base, b.not_ranked_reason,
            b.sn_neighbour_count, b.sn_model,
            b.region_value_source, b.region_dfe_status, b.england_value_source, b.england_dfe_status,
            b.la_rank, b.ranked_units, b.quartile_band,
            b.ofsted_overall_effectiveness, b.ofsted_inspection_date, b.ofsted_publication_date,
            b.ofsted_judged_old_la_code
        from fct_workforce_benchmarks as b
        inner join pack_years as y on b.time_period = y.time_period and b.old_la_code = y.area_code
        inner join dim_measures as m on b.measure = m.measure
        """,
        args,
    )
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:
        for column in _ROUNDED_BENCHMARK_COLUMNS:
            row[column] = published(row[column], row["decimals"])
    return rows


def _group_synthetic(view: PublishedView, chain: dict[int, str]) -> dict[tuple[int, str, str], bool]:
    """(year, level, area) → whether the group figure the pack shows is built from synthetic returns."""
    marks = ", ".join("?" for _ in chain)
    rows = view.execute(
        f"""
        select time_period, geographic_level, area_code, is_synthetic
        from fct_workforce_indicators
        where time_period in ({marks}) and geographic_level != 'Local authority'
        """,
        list(chain),
    ).fetchall()
    return {(year, level, code): bool(flag) for year, level, code, flag in rows}


def _pooled_councils(view: PublishedView, chain: dict[int, str]) -> dict[tuple[int, str, str], int]:
    """(year, region code or England's, measure) → how many councils' values the figure pools, of
    those the council may see (on a provisional year, fewer than pooled when some are withheld from
    it: the count can only err towards withholding a figure)."""
    marks = ", ".join("?" for _ in chain)
    counts: dict[tuple[int, str, str], int] = {}
    for year, region, measure, units in view.execute(
        f"""
        select time_period, region_code, measure, count(la_value)
        from fct_workforce_benchmarks
        where time_period in ({marks})
        group by time_period, region_code, measure
        """,
        list(chain),
    ).fetchall():
        counts[(year, region, measure)] = units
        counts[(year, ENGLAND_CODE, measure)] = counts.get((year, ENGLAND_CODE, measure), 0) + units
    return counts


def _thin_provisional_groups(row: dict, pooled: dict[tuple[int, str, str], int]) -> set[str]:
    """The comparators of a provisional year that pool fewer than PROVISIONAL_GROUP_MINIMUM other
    councils: shown, each would let the council work out a neighbour's unpublished figure."""
    if "provisional" not in (row["region_value_source"], row["england_value_source"]):
        return set()
    own = 1 if row["la_value"] is not None else 0
    others = {
        "statistical_neighbours": row["sn_neighbour_count"] or 0,
        "region": pooled.get((row["time_period"], row["region_code"], row["measure"]), 0) - own,
        "england": pooled.get((row["time_period"], ENGLAND_CODE, row["measure"]), 0) - own,
    }
    return {role for role, count in others.items() if count < PROVISIONAL_GROUP_MINIMUM}


def _neighbour_rows(view: PublishedView, code: str, year: int) -> list[dict]:
    cursor = view.execute(
        """
        select n.*, m.decimals, m.measure_label
        from fct_statistical_neighbour_values as n
        inner join dim_measures as m on n.measure = m.measure
        where n.old_la_code = ? and n.time_period = ?
        order by n.neighbour_rank, m.ees_order
        """,
        [code, year],
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _ranking_rows(view: PublishedView, year: int) -> list[dict]:
    cursor = view.execute(
        """
        select b.time_period, b.measure, m.measure_label, m.decimals, b.la_rank, b.ranked_units, b.old_la_code,
            b.la_name, b.la_value, b.quartile_band, b.is_synthetic
        from fct_workforce_benchmarks as b
        inner join dim_measures as m on b.measure = m.measure
        where b.time_period = ? and b.la_rank is not null and m.in_pack_trends
        order by m.ees_order, b.la_rank, b.la_name
        """,
        [year],
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _latest_inspections(view: PublishedView, unit: Council) -> list[Inspection | None]:
    """Each member council's latest inspection: Ofsted inspects the councils of a joint return apart."""
    found: list[Inspection | None] = []
    for code in unit.members:
        row = view.execute(
            """
            select old_la_code, la_name, inspection_date, publication_date, inspection_type, overall_effectiveness,
                impact_of_leaders, help_and_protection, children_in_care, care_leavers
            from fct_inspections where old_la_code = ? and is_latest_for_la
            """,
            [code],
        ).fetchone()
        if row is None:
            found.append(None)
            continue
        sub_judgements = dict(
            zip(("Impact of leaders", "Help and protection", "Children in care", "Care leavers"), row[6:], strict=True)
        )
        found.append(Inspection(*row[:6], sub_judgements=sub_judgements))
    return found


def _judgement_in_force(rows: list[dict], code: str, year: int, every: dict[str, Council]) -> JudgementInForce | None:
    own = next((r for r in rows if r["time_period"] == year and r["old_la_code"] == code), None)
    if not own or not own["ofsted_overall_effectiveness"]:
        return None
    judged = own["ofsted_judged_old_la_code"]
    return JudgementInForce(
        overall_effectiveness=own["ofsted_overall_effectiveness"],
        inspection_date=own["ofsted_inspection_date"],
        publication_date=own["ofsted_publication_date"],
        judged_code=judged,
        judged_name=every[judged].name if judged in every else judged,
    )


def dfe_symbols(suppression_notes: str | None) -> dict[str, tuple[str, str]]:
    """'caseload_fte c: suppressed…; …' → {'caseload_fte': ('c', 'suppressed…')}."""
    return {m: (s, reason.strip()) for m, s, reason in _NOTE_PATTERN.findall(suppression_notes or "")}


def symbol_meaning(symbol: str) -> str:
    """What one of DfE's symbols means, as DfE's own (not the pack's)."""
    return f"{SYMBOLS[symbol]} (DfE)"


class _CouncilYear:
    """One year of the council's own figures, deciding which are shown, which withheld and which flagged."""

    def __init__(self, row: dict) -> None:
        self.row = row
        self.dfe = {m: symbol for m, (symbol, _) in dfe_symbols(row["suppression_notes"]).items()}
        self.headcounts = {m: value for m, value in row.items() if m.endswith("_headcount")}

    def is_small(self, measure: str) -> bool:
        return suppression.is_small(measure, self.headcounts, self.dfe)

    def shown(
        self, measure: str, value: float | None, small_base: bool = False
    ) -> tuple[float | None, str, str, str, str]:
        """(value, symbol, symbol meaning, flag, flag meaning).

        A withheld value is None with the symbol shown in its place and why: a count about fewer
        than five people or a figure DfE suppressed (`c`), or no value at all (DfE's symbol, else
        `x`). A shown value carries DfE's symbol for it as a flag (`u`, `x`, `low`) and a small
        base, each with its meaning.
        """
        dfe = self.dfe.get(measure, "")
        if self.is_small(measure):
            return None, suppression.SMALL_COUNT_SYMBOL, suppression.SMALL_COUNT_REASON, "", ""
        if dfe == suppression.SMALL_COUNT_SYMBOL:
            return None, dfe, symbol_meaning(dfe), "", ""
        if value is None:
            symbol = dfe or MISSING_SYMBOL
            return None, symbol, symbol_meaning(symbol) if dfe else SYMBOLS[MISSING_SYMBOL], "", ""
        flags = []
        if dfe:
            flags.append(
                (dfe, f"DfE published {dfe}: {SYMBOLS[dfe]}; the value is recomputed from the council's return")
            )
        if small_base:
            flags.append((SMALL_BASE_FLAG, suppression.SMALL_BASE_REASON))
        return value, "", "", "; ".join(f for f, _ in flags), "; ".join(m for _, m in flags)


def _figures(
    measures: dict[str, Measure],
    chain: dict[int, str],
    chosen: int,
    previous: int | None,
    unit_rows: dict[int, dict],
    benchmark_rows: list[dict],
    group_synthetic: dict[tuple[int, str, str], bool],
    pooled: dict[tuple[int, str, str], int],
) -> pd.DataFrame:
    comparison_years = {chosen, previous} - {None}
    benchmarked = [m for m, spec in measures.items() if spec.is_benchmarked]
    trends = [m for m, spec in measures.items() if spec.in_pack_trends]
    counts = [m for m, spec in measures.items() if spec.is_count]
    records: list[dict] = []
    for year in chain:
        own = _CouncilYear(unit_rows[year])
        code, name = own.row["area_code"], own.row["area_name"]
        provenance = {
            "source": own.row["source"],
            "return_status": own.row["return_status"],
            "is_synthetic": bool(own.row["is_synthetic"]),
        }
        wanted = benchmarked if year in comparison_years else trends
        for row in benchmark_rows:
            if row["time_period"] != year or row["measure"] not in wanted:
                continue
            measure = measures[row["measure"]]
            value, symbol, meaning, flag, flag_meaning = own.shown(measure.name, row["la_value"], row["is_small_base"])
            # A withheld value takes its rank, band and change with it: each would give it back.
            shown = value is not None
            records.append(
                _record(year, "council", code, name, measure, value, symbol, meaning)
                | provenance
                | {
                    "flag": flag,
                    "flag_meaning": flag_meaning,
                    "rank": row["la_rank"] if shown else None,
                    "ranked_units": row["ranked_units"] if shown else None,
                    "quartile_band": (row["quartile_band"] or "") if shown else "",
                    "not_ranked_reason": (row["not_ranked_reason"] or "") if shown else "not ranked: withheld",
                    "change_from_previous_year": row["change_from_previous_year"]
                    if shown and year == chosen and _previous_shown(unit_rows, year, measure.name, row)
                    else None,
                }
            )
            thin = _thin_provisional_groups(row, pooled)
            neighbours = f"Statistical neighbours of {row['la_name']}"
            hidden = "statistical_neighbours" in thin
            records.append(
                _group_record(
                    year, "statistical_neighbours", code, neighbours, measure, row["sn_pooled_value"], thin=hidden
                )
                | {
                    "value_source": "recomputed",
                    "sn_mean_value": None if hidden else row["sn_mean_value"],
                    "sn_median_value": None if hidden else row["sn_median_value"],
                    "sn_neighbour_count": row["sn_neighbour_count"],
                    "sn_model": row["sn_model"],
                    "is_synthetic": group_synthetic.get((year, "Statistical neighbours", code), False),
                }
            )
            for role, level, area_code, area_name in (
                ("region", "Regional", row["region_code"], row["region_name"]),
                ("england", "National", ENGLAND_CODE, "England"),
            ):
                hidden = role in thin
                records.append(
                    _group_record(
                        year,
                        role,
                        area_code,
                        area_name,
                        measure,
                        row[f"{role}_value"],
                        row[f"{role}_dfe_status"],
                        thin=hidden,
                    )
                    | {
                        "value_source": row[f"{role}_value_source"],
                        "recomputed_value": None if hidden else row[f"{role}_recomputed_value"],
                        "difference": None if hidden else row[f"{role}_difference"],
                        "is_synthetic": group_synthetic.get((year, level, area_code), False),
                    }
                )
        if year in comparison_years:
            for measure_name in counts:
                value, symbol, meaning, flag, flag_meaning = own.shown(measure_name, own.row[measure_name])
                records.append(
                    _record(year, "council", code, name, measures[measure_name], value, symbol, meaning)
                    | provenance
                    | {"flag": flag, "flag_meaning": flag_meaning}
                )
    return _frame(records, measures)


def _previous_shown(unit_rows: dict[int, dict], year: int, measure: str, row: dict) -> bool:
    """False when last year's figure is withheld as a small count (the change would give it back)."""
    before = unit_rows.get(year - 1)
    if before is None or before["area_code"] != row["old_la_code"]:
        # The published change is NULL across a reorganisation anyway.
        return True
    return not _CouncilYear(before).is_small(measure)


def _record(
    year: int, role: str, code: str, name: str, measure: Measure, value: float | None, symbol: str, meaning: str
) -> dict:
    return {
        "time_period": year,
        "role": role,
        "area_code": code,
        "area_name": name,
        "measure": measure.name,
        "measure_label": measure.label,
        "unit": measure.unit,
        "value": value,
        "symbol": symbol,
        "symbol_meaning": meaning,
    }


def _group_record(
    year: int,
    role: str,
    code: str,
    name: str,
    measure: Measure,
    value: float | None,
    dfe_status: str | None = None,
    *,
    thin: bool = False,
) -> dict:
    """A comparator: its value, or `x` in its place (also for a `thin` provisional group, with why);
    DfE's symbol for it (a `u` region) as its flag."""
    if thin and value is not None:
        value, symbol, meaning = None, MISSING_SYMBOL, THIN_PROVISIONAL_GROUP
    else:
        symbol, meaning = ("", "") if value is not None else (MISSING_SYMBOL, SYMBOLS[MISSING_SYMBOL])
    flag = dfe_status or ""
    flag_meaning = f"DfE published {flag}: {SYMBOLS[flag]}; the value is recomputed" if flag else ""
    return _record(year, role, code, name, measure, value, symbol, meaning) | {
        "flag": flag,
        "flag_meaning": flag_meaning,
    }


def _frame(records: list[dict], measures: dict[str, Measure]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records).reindex(columns=list(FIGURE_COLUMNS))
    for column in ("time_period", "rank", "ranked_units", "sn_neighbour_count", "sn_model"):
        frame[column] = frame[column].astype("Int64")
    for column in (
        "value",
        "recomputed_value",
        "difference",
        "change_from_previous_year",
        "sn_mean_value",
        "sn_median_value",
    ):
        frame[column] = frame[column].astype("float64")
    for column in (
        "symbol",
        "symbol_meaning",
        "flag",
        "flag_meaning",
        "value_source",
        "quartile_band",
        "not_ranked_reason",
        "source",
        "return_status",
    ):
        frame[column] = frame[column].fillna("").astype(str)
    frame["is_synthetic"] = frame["is_synthetic"].fillna(False).astype(bool)
    measure_order = frame.measure.map({name: position for position, name in enumerate(measures)})
    role_order = frame.role.map({role: position for position, role in enumerate(ROLES)})
    keys = pd.DataFrame({"year": -frame.time_period, "measure": measure_order, "role": role_order})
    return frame.loc[keys.sort_values(["year", "measure", "role"]).index].reset_index(drop=True)


def _neighbours_table(pack: Pack, rows: list[dict], every: dict[str, Council]) -> pd.DataFrame:
    """Each listed neighbour's value of every trend measure in the pack's year, flagged as the council's are."""
    records = []
    for row in rows:
        if row["measure"] not in pack.trend_measures:
            continue
        units = [u for u in row["neighbour_unit_codes"] if u != row["neighbour_old_la_code"]]
        standing_for = " + ".join(every[u].name if u in every else u for u in units)
        flags = []
        if row["dfe_status"]:
            flags.append((row["dfe_status"], f"DfE published {row['dfe_status']}: {SYMBOLS[row['dfe_status']]}"))
        if row["is_small_base"]:
            flags.append((SMALL_BASE_FLAG, suppression.SMALL_BASE_REASON))
        value = published(row["neighbour_value"], row["decimals"])
        records.append(
            {
                "time_period": row["time_period"],
                "neighbour_rank": row["neighbour_rank"],
                "neighbour_old_la_code": row["neighbour_old_la_code"],
                "neighbour_name": row["neighbour_name"],
                "standing_for": standing_for,
                "measure": row["measure"],
                "measure_label": row["measure_label"],
                "value": value,
                "flag": "; ".join(f for f, _ in flags),
                "flag_meaning": "; ".join(m for _, m in flags)
                + ("" if row["is_in_mean"] or value is None else " (left out of the mean and median)"),
                "is_in_mean": bool(row["is_in_mean"]),
            }
        )
    for rank, council in pack.withheld_neighbours:
        records += [
            {
                "time_period": pack.year,
                "neighbour_rank": rank,
                "neighbour_old_la_code": council.code,
                "neighbour_name": council.name,
                "standing_for": "",
                "measure": measure,
                "measure_label": pack.measures[measure].label,
                "value": None,
                "flag": WITHHELD_FLAG,
                "flag_meaning": WITHHELD_BY_AGREEMENT,
                "is_in_mean": False,
            }
            for measure in pack.trend_measures
        ]
    frame = pd.DataFrame.from_records(records, columns=list(NEIGHBOUR_COLUMNS))
    frame["value"] = frame["value"].astype("float64")
    return frame.sort_values(["neighbour_rank"], kind="stable").reset_index(drop=True)


def _withheld_neighbours(
    unit: Council, sn_model: int | None, listed: list[tuple[int, str]], every: dict[str, Council]
) -> tuple[tuple[int, Council], ...]:
    """(rank, council) of each neighbour the model lists whose rows the council may not see.

    A neighbour's rows are all there unless its figures that year are provisional and not shared
    with the council (source.py): then none is, and it is named here from the model's list (a
    joint return's is its lead council's), at its place in that list.
    """
    if sn_model is None:
        return ()
    lead = every[unit.members[0]] if unit.members else unit
    shown = {code for _, code in listed}
    return tuple(
        (rank, every[code])
        for rank, code in enumerate(lead.neighbours.get(sn_model, ()), start=1)
        if code not in shown and code != unit.code and code not in unit.members and code in every
    )


def _withheld_from_ranking(rows: list[dict]) -> int:
    """How many ranked councils the council may not see, for the measure missing most."""
    shown: dict[str, int] = {}
    ranked: dict[str, int] = {}
    for row in rows:
        shown[row["measure"]] = shown.get(row["measure"], 0) + 1
        ranked[row["measure"]] = row["ranked_units"]
    return max((ranked[m] - shown[m] for m in ranked), default=0)


def _ranking(pack: Pack, rows: list[dict]) -> pd.DataFrame:
    """Every ranked council's value and rank in the pack's year, this council marked."""
    records = [
        {
            "time_period": row["time_period"],
            "measure": row["measure"],
            "measure_label": row["measure_label"],
            "rank": row["la_rank"],
            "ranked_units": row["ranked_units"],
            "old_la_code": row["old_la_code"],
            "la_name": row["la_name"],
            "value": published(row["la_value"], row["decimals"]),
            "quartile_band": row["quartile_band"],
            "is_this_council": row["old_la_code"] == pack.unit.code,
            "is_synthetic_row": bool(row["is_synthetic"]),
        }
        for row in rows
        if row["measure"] in pack.ranked_trend_measures
    ]
    frame = pd.DataFrame.from_records(records, columns=[*RANKING_COLUMNS, "is_synthetic_row"])
    # The council's own ranked value stays only if the pack shows it (a withheld figure has no rank).
    shown = pack.figures[(pack.figures.role == "council") & (pack.figures.time_period == pack.year)]
    withheld = set(shown[shown["rank"].isna()].measure)
    frame = frame[~(frame.is_this_council & frame.measure.isin(withheld))]
    frame["value"] = frame["value"].astype("float64")
    return frame.reset_index(drop=True)
