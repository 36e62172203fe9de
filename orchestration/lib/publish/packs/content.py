"""Build a pack's content from the published tables and nothing else.

Every number is a published value rounded, in DuckDB, to the decimals DfE publishes the measure
to, so the three formats show exactly the same figure and a reader can check it against DfE.
Where the council did not exist in an earlier year (North Northamptonshire before 2021), the
trend uses the single council it replaced, whose figures are published under that council's
code; the notes say so. A council's own figure about fewer than five people is withheld (see
`suppression`).
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pandas as pd

from orchestration.lib import paths
from orchestration.lib.publish import publication
from orchestration.lib.publish.packs import suppression
from orchestration.lib.publish.packs.lookup import (
    Council,
    PackError,
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
    ROLES,
    SYMBOLS,
    TREND_YEARS,
    Inspection,
    JudgementInForce,
    Measure,
    Pack,
    YearSource,
    load_measures,
)
from orchestration.lib.publish.packs.notes import pack_notes

_NOTE_PATTERN = re.compile(rf"(\w+) ({'|'.join(SYMBOLS)}): ([^;]+)")


def published_folder() -> Path:
    """The published version folder, resolved once so the tables and the manifest are one version
    even if a publish switches the link meanwhile."""
    folder = paths.published_dir().resolve()
    if not (folder / publication.PUBLISHED_DB_NAME).exists():
        raise PackError(f"Nothing is published yet under {paths.published_dir()}: run `workforce run` first.", 1)
    return folder


def build_pack(asked: str, year: int | None = None) -> Pack:
    """The pack for the council `asked` (code, ONS code or name) in `year` (default: its latest)."""
    folder = published_folder()
    manifest = publication.read_manifest(folder.name) or {}
    with duckdb.connect(str(folder / publication.PUBLISHED_DB_NAME), read_only=True) as con:
        measures = load_measures(con)
        every = councils(con)
        request = resolve(every, asked)
        unit = request.unit
        replaced = predecessors(every, unit)
        chosen = choose_year(con, unit, year, replaced)
        chain = _figures_chain(con, unit, chosen, replaced)
        previous = chosen - 1 if chosen - 1 in chain else None

        decimals = pd.DataFrame([(m.name, m.decimals) for m in measures.values()], columns=["measure", "decimals"])
        con.register("pack_measures", decimals)
        con.register("pack_years", pd.DataFrame(list(chain.items()), columns=["time_period", "area_code"]))
        unit_rows = _unit_rows(con, measures)
        benchmark_rows = _benchmark_rows(con)
        inspections = _latest_inspections(con, unit)

    figures = _figures(measures, chain, chosen, previous, unit_rows, benchmark_rows)
    sources = {
        year: YearSource(year, row["area_code"], row["area_name"], row["source"], row["return_status"])
        for year, row in sorted(unit_rows.items())
    }
    sn_model = next((r["sn_model"] for r in benchmark_rows if r["time_period"] == chosen and r["sn_model"]), None)
    # A joint return takes its lead council's neighbours; the lead is listed first.
    lead = every[unit.members[0]]
    listed = lead.neighbours.get(sn_model, ()) if sn_model else ()
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
        neighbours=tuple(every[code] for code in listed if code in every and code not in unit.members),
        judgement_in_force=_judgement_in_force(benchmark_rows, unit.code, chosen, every),
        latest_inspections=tuple(i for i in inspections if i),
        not_inspected=tuple(every[c] for c, i in zip(unit.members, inspections, strict=True) if i is None),
        region_name=unit.region_name,
        published_version=manifest.get("version"),
        published_at=manifest.get("published_at"),
    )
    pack.notes = pack_notes(pack, every, replaced)
    return pack


def _figures_chain(
    con: duckdb.DuckDBPyConnection, unit: Council, year: int, replaced: tuple[str, ...]
) -> dict[int, str]:
    """Year → the code whose figures stand for the unit, back from `year` for up to five years.

    Before a reorganisation the unit's figures are its predecessor's, but only when there was a
    single one: three councils became Bournemouth, Christchurch and Poole, and their rates cannot
    be combined from the published rates, so that trend starts in 2019.
    """
    own = set(unit_years(con, unit.code))
    before = set(unit_years(con, replaced[0])) if len(replaced) == 1 else set()
    chain: dict[int, str] = {}
    for candidate in range(year, year - TREND_YEARS, -1):
        if candidate in own:
            chain[candidate] = unit.code
        elif candidate in before:
            chain[candidate] = replaced[0]
        else:
            break
    return chain


def _unit_rows(con: duckdb.DuckDBPyConnection, measures: dict[str, Measure]) -> dict[int, dict]:
    counts = ", ".join(f"round(i.{m.name}, {m.decimals}) as {m.name}" for m in measures.values() if m.is_count)
    cursor = con.execute(
        f"""
        select i.time_period, i.area_code, i.area_name, i.source, i.return_status, i.suppression_notes, {counts}
        from fct_workforce_indicators as i
        inner join pack_years as y on i.time_period = y.time_period and i.area_code = y.area_code
        where i.geographic_level = 'Local authority'
        """
    )
    names = [d[0] for d in cursor.description]
    return {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


def _benchmark_rows(con: duckdb.DuckDBPyConnection) -> list[dict]:
    cursor = con.execute(
        """
        select
            b.time_period, b.old_la_code, b.la_name, b.region_code, b.region_name, b.measure,
            round(b.la_value, m.decimals::integer) as la_value,
            round(b.sn_pooled_value, m.decimals::integer) as sn_pooled_value,
            round(b.sn_mean_value, m.decimals::integer) as sn_mean_value,
            round(b.sn_median_value, m.decimals::integer) as sn_median_value,
            b.sn_neighbour_count, b.sn_model,
            round(b.region_value, m.decimals::integer) as region_value,
            round(b.england_value, m.decimals::integer) as england_value,
            b.la_rank, b.ranked_units, b.quartile_band,
            round(b.change_from_previous_year, m.decimals::integer) as change_from_previous_year,
            b.ofsted_overall_effectiveness, b.ofsted_inspection_date, b.ofsted_publication_date,
            b.ofsted_judged_old_la_code
        from fct_workforce_benchmarks as b
        inner join pack_years as y on b.time_period = y.time_period and b.old_la_code = y.area_code
        inner join pack_measures as m on b.measure = m.measure
        """
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _latest_inspections(con: duckdb.DuckDBPyConnection, unit: Council) -> list[Inspection | None]:
    """Each member council's latest inspection: Ofsted inspects the councils of a joint return apart."""
    found: list[Inspection | None] = []
    for code in unit.members:
        row = con.execute(
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


class _CouncilYear:
    """One year of the council's own figures, deciding which are shown and which withheld."""

    def __init__(self, row: dict) -> None:
        self.row = row
        self.withheld = dfe_symbols(row["suppression_notes"])
        self.headcounts = {m: value for m, value in row.items() if m.endswith("_headcount")}
        self.dfe = {m: symbol for m, (symbol, _) in self.withheld.items()}

    def is_small(self, measure: str) -> bool:
        return suppression.is_small(measure, self.headcounts, self.dfe)

    def shown(self, measure: str, value: float | None) -> tuple[float | None, str, str]:
        """(value, symbol, meaning): the value with no symbol, or None with the symbol and why."""
        if self.is_small(measure):
            return None, suppression.SMALL_COUNT_SYMBOL, suppression.SMALL_COUNT_REASON
        if value is not None:
            return value, "", ""
        if measure in self.withheld:
            symbol, reason = self.withheld[measure]
            return None, symbol, f"{reason} (DfE)"
        return None, MISSING_SYMBOL, SYMBOLS[MISSING_SYMBOL]


def _figures(
    measures: dict[str, Measure],
    chain: dict[int, str],
    chosen: int,
    previous: int | None,
    unit_rows: dict[int, dict],
    benchmark_rows: list[dict],
) -> pd.DataFrame:
    comparison_years = {chosen, previous} - {None}
    benchmarked = [m for m, spec in measures.items() if spec.is_benchmarked]
    trends = [m for m, spec in measures.items() if spec.in_pack_trends]
    counts = [m for m, spec in measures.items() if spec.is_count]
    records: list[dict] = []
    for year in chain:
        own = _CouncilYear(unit_rows[year])
        code, name = own.row["area_code"], own.row["area_name"]
        provenance = {"source": own.row["source"], "return_status": own.row["return_status"]}
        wanted = benchmarked if year in comparison_years else trends
        for row in benchmark_rows:
            if row["time_period"] != year or row["measure"] not in wanted:
                continue
            measure = measures[row["measure"]]
            value, symbol, meaning = own.shown(measure.name, row["la_value"])
            # A withheld value takes its rank, band and change with it: each would give it back.
            shown = value is not None
            records.append(
                _record(year, "council", code, name, measure, value, symbol, meaning)
                | provenance
                | {
                    "rank": row["la_rank"] if shown else None,
                    "ranked_units": row["ranked_units"] if shown else None,
                    "quartile_band": (row["quartile_band"] or "") if shown else "",
                    "change_from_previous_year": row["change_from_previous_year"]
                    if shown and year == chosen and _previous_shown(unit_rows, year, measure.name, row)
                    else None,
                }
            )
            neighbours = f"Statistical neighbours of {row['la_name']}"
            records.append(
                _group_record(year, "statistical_neighbours", code, neighbours, measure, row["sn_pooled_value"])
                | {
                    "sn_mean_value": row["sn_mean_value"],
                    "sn_median_value": row["sn_median_value"],
                    "sn_neighbour_count": row["sn_neighbour_count"],
                    "sn_model": row["sn_model"],
                }
            )
            records.append(
                _group_record(year, "region", row["region_code"], row["region_name"], measure, row["region_value"])
            )
            records.append(_group_record(year, "england", ENGLAND_CODE, "England", measure, row["england_value"]))
        if year in comparison_years:
            for measure_name in counts:
                value, symbol, meaning = own.shown(measure_name, own.row[measure_name])
                records.append(
                    _record(year, "council", code, name, measures[measure_name], value, symbol, meaning) | provenance
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


def _group_record(year: int, role: str, code: str, name: str, measure: Measure, value: float | None) -> dict:
    symbol, meaning = ("", "") if value is not None else (MISSING_SYMBOL, SYMBOLS[MISSING_SYMBOL])
    return _record(year, role, code, name, measure, value, symbol, meaning)


def _frame(records: list[dict], measures: dict[str, Measure]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records).reindex(columns=list(FIGURE_COLUMNS))
    for column in ("time_period", "rank", "ranked_units", "sn_neighbour_count", "sn_model"):
        frame[column] = frame[column].astype("Int64")
    for column in ("value", "change_from_previous_year", "sn_mean_value", "sn_median_value"):
        frame[column] = frame[column].astype("float64")
    for column in ("symbol", "symbol_meaning", "quartile_band", "source", "return_status"):
        frame[column] = frame[column].fillna("").astype(str)
    measure_order = frame.measure.map({name: position for position, name in enumerate(measures)})
    role_order = frame.role.map({role: position for position, role in enumerate(ROLES)})
    keys = pd.DataFrame({"year": -frame.time_period, "measure": measure_order, "role": role_order})
    return frame.loc[keys.sort_values(["year", "measure", "role"]).index].reset_index(drop=True)
