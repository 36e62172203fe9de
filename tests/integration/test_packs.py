"""`workforce extract` end to end: every figure in every format equals the published tables.

The pipeline runs once for the module, on DfE's published figures. Expected figures come from
SQL written here against the published DuckDB (rounding and the small-number rule restated),
never from the pack's own model, and each format is read back the way a person's tools would:
openpyxl for the workbook, an HTML parser for the page, the csv module for the CSV.
"""

from __future__ import annotations

import csv
import math
import re
import shutil
import zipfile
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree

import duckdb
import openpyxl
import pytest

from orchestration import cli, pack_screens
from orchestration.lib import measures as registry
from orchestration.lib import paths
from orchestration.lib.publish import publication
from orchestration.lib.publish.packs import PACK_FORMATS, content
from orchestration.lib.publish.packs.html import write_html
from orchestration.lib.publish.packs.model import FIGURE_COLUMNS, SYNTHETIC_PAGE_MARK
from orchestration.lib.publish.packs.xlsx import write_xlsx
from portal.figures import configured_pack_views
from tests.integration.helpers import first_run_base, private_copy

BENCHMARKED = (
    "turnover_rate_fte",
    "turnover_rate_headcount",
    "agency_rate_fte",
    "agency_rate_headcount",
    "agency_cover_rate_fte",
    "vacancy_rate_fte",
    "vacancy_agency_cover_rate_fte",
    "caseload_fte",
    "absence_rate_fte",
)
TRENDS = ("turnover_rate_fte", "agency_rate_fte", "vacancy_rate_fte", "absence_rate_fte", "caseload_fte")
COUNTS = (
    "inpost_fte",
    "inpost_headcount",
    "starters_fte",
    "starters_headcount",
    "leavers_fte",
    "leavers_headcount",
    "agency_fte",
    "agency_headcount",
    "agency_cover_fte",
    "vacancy_fte",
    "case_holders_fte",
    "cases",
    "working_days_lost_fte",
)
WHOLE = {"inpost_headcount", "starters_headcount", "leavers_headcount", "agency_headcount", "cases"}
RATES = set(BENCHMARKED) - {"caseload_fte"}
# Headcounts each figure describes (docs in orchestration/lib/publish/packs/suppression.py), restated.
PEOPLE = {
    "inpost_fte": ["inpost_headcount"],
    "inpost_headcount": ["inpost_headcount"],
    "starters_fte": ["starters_headcount"],
    "starters_headcount": ["starters_headcount"],
    "leavers_fte": ["leavers_headcount"],
    "leavers_headcount": ["leavers_headcount"],
    "turnover_rate_fte": ["leavers_headcount", "inpost_headcount"],
    "turnover_rate_headcount": ["leavers_headcount", "inpost_headcount"],
    "agency_fte": ["agency_headcount"],
    "agency_headcount": ["agency_headcount"],
    "agency_rate_fte": ["agency_headcount", "inpost_headcount"],
    "agency_rate_headcount": ["agency_headcount", "inpost_headcount"],
    "agency_cover_fte": ["agency_headcount"],
    "agency_cover_rate_fte": ["agency_headcount"],
    "vacancy_fte": [],
    "vacancy_rate_fte": ["inpost_headcount"],
    "vacancy_agency_cover_rate_fte": ["agency_headcount"],
    "case_holders_fte": ["inpost_headcount + agency_headcount"],
    "cases": ["inpost_headcount + agency_headcount"],
    "caseload_fte": ["inpost_headcount + agency_headcount"],
    "working_days_lost_fte": ["inpost_headcount"],
    "absence_rate_fte": ["inpost_headcount"],
}
WORKER_LEVEL = re.compile(
    r"swe_?no|swe number|pseudonym|birth|ethnic|gender|\bsex\b|worker_id|role_start|role_end|reason_?leave|qualinst",
    re.IGNORECASE,
)

# The packs under test: what is asked for, and whose figures stand for the unit each year (every
# year held: 2017-2024, a reorganised council's early years its predecessor's).
CASES = {
    "reorganised": {
        "ask": "North Northamptonshire",
        "unit": "940 / 941",
        "year": 2024,
        "chain": {y: "940 / 941" for y in range(2021, 2025)} | {y: "928" for y in range(2017, 2021)},
    },
    "suppressed": {"ask": "420", "unit": "420", "year": 2024, "chain": {y: "420" for y in range(2017, 2025)}},
    "low_reliability": {
        "ask": "Birmingham",
        "unit": "330",
        "year": 2024,
        "chain": {y: "330" for y in range(2017, 2025)},
    },
    "joint": {"ask": "314", "unit": "314 / 318", "year": 2024, "chain": {y: "314 / 318" for y in range(2017, 2025)}},
}
FORMATS = tuple(PACK_FORMATS)
SYMBOL_TEXTS = ("c", "x", "z", "u", "low")


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A copy of one clean run for the module (DfE's published figures only)."""
    with private_copy(first_run_base(tmp_path_factory), tmp_path_factory, None, "packs") as root:
        yield root / "data" / "published" / publication.PUBLISHED_DB_NAME


@pytest.fixture(scope="module")
def packs(published: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    """Every case in every format, written through the command line."""
    out = tmp_path_factory.mktemp("pack_files")
    written = {}
    for case, spec in CASES.items():
        for fmt in FORMATS:
            target = out / f"{case}.{fmt}"
            assert cli.main(["extract", "--la", spec["ask"], "--format", fmt, "--out", str(target)]) == 0
            written[(case, fmt)] = target
    return written


# ---- expected figures, from SQL on the published tables ------------------------------------
# Keys: (year, role, measure, field, area); area names a listed neighbour or a ranked council, and
# is empty for the council and its comparators.


def _decimals(measure: str) -> int:
    return 0 if measure in WHOLE else 1


def _small_sql(measure: str) -> str:
    groups = PEOPLE[measure]
    return " or ".join(f"coalesce(({g}) between 1 and 4, false)" for g in groups) or "false"


def _symbol_sql(measure: str, notes: str = "suppression_notes") -> str:
    return f"coalesce(regexp_extract({notes}, '(^|; ){measure} (c|x|z|u|low):', 2), '')"


def expected_figures(database: Path, case: str) -> dict[tuple, object]:
    """(year, role, measure, field, area) → the figure the pack must show: a rounded number, a symbol or a flag."""
    spec = CASES[case]
    year, chain = spec["year"], spec["chain"]
    comparison_years = {year, year - 1}
    figures: dict[tuple, object] = {}
    with duckdb.connect(str(database), read_only=True) as con:
        for period, code in chain.items():
            unit = con.execute(
                "select * from fct_workforce_indicators where geographic_level = 'Local authority' "
                "and area_code = ? and time_period = ?",
                [code, period],
            ).fetchdf()
            assert len(unit) == 1
            for measure in BENCHMARKED if period in comparison_years else TRENDS:
                d = _decimals(measure)
                row = con.execute(
                    f"""
                    select round(b.la_value, {d}), b.la_rank, b.ranked_units, b.quartile_band,
                        round(b.change_from_previous_year, {d}), round(b.sn_pooled_value, {d}),
                        round(b.sn_mean_value, {d}), round(b.sn_median_value, {d}), b.sn_neighbour_count,
                        round(b.region_value, {d}), round(b.england_value, {d}),
                        ({_small_sql(measure)}) as small,
                        {_symbol_sql(measure, "i.suppression_notes")} as symbol,
                        (select ({_small_sql(measure)}) from fct_workforce_indicators p
                         where p.geographic_level = 'Local authority' and p.area_code = b.old_la_code
                           and p.time_period = b.time_period - 1) as small_before,
                        b.is_small_base, b.not_ranked_reason,
                        round(b.region_recomputed_value, {d}), round(b.region_difference, {d}),
                        round(b.england_recomputed_value, {d}), round(b.england_difference, {d})
                    from fct_workforce_benchmarks b
                    inner join fct_workforce_indicators i
                        on i.geographic_level = 'Local authority' and i.area_code = b.old_la_code
                        and i.time_period = b.time_period
                    where b.old_la_code = ? and b.time_period = ? and b.measure = ?
                    """,
                    [code, period, measure],
                ).fetchone()
                (value, rank, ranked, band, change, pooled, mean, median, count, region, england) = row[:11]
                small, symbol, small_before, small_base, why = row[11:16]
                region_ours, region_gap, england_ours, england_gap = row[16:]
                shown, flag = _council_value(value, symbol, small, small_base)
                key = (period, "council", measure)
                figures[(*key, "value", "")] = shown
                visible = not isinstance(shown, str)
                figures[(*key, "flag", "")] = flag
                figures[(*key, "rank", "")] = rank if visible else None
                figures[(*key, "ranked_units", "")] = ranked if visible else None
                figures[(*key, "quartile_band", "")] = band if visible else None
                figures[(*key, "not_ranked_reason", "")] = (why or "") if visible else "not ranked: withheld"
                figures[(*key, "change_from_previous_year", "")] = (
                    change if visible and period == year and not small_before else None
                )
                figures[(period, "statistical_neighbours", measure, "value", "")] = "x" if pooled is None else pooled
                figures[(period, "statistical_neighbours", measure, "sn_mean_value", "")] = mean
                figures[(period, "statistical_neighbours", measure, "sn_median_value", "")] = median
                figures[(period, "statistical_neighbours", measure, "sn_neighbour_count", "")] = count
                figures[(period, "region", measure, "value", "")] = "x" if region is None else region
                figures[(period, "england", measure, "value", "")] = "x" if england is None else england
                figures[(period, "region", measure, "recomputed_value", "")] = region_ours
                figures[(period, "region", measure, "difference", "")] = region_gap
                figures[(period, "england", measure, "recomputed_value", "")] = england_ours
                figures[(period, "england", measure, "difference", "")] = england_gap
            if period in comparison_years:
                for measure in COUNTS:
                    row = con.execute(
                        f"""
                        select round({measure}, {_decimals(measure)}), ({_small_sql(measure)}), {_symbol_sql(measure)}
                        from fct_workforce_indicators
                        where geographic_level = 'Local authority' and area_code = ? and time_period = ?
                        """,
                        [code, period],
                    ).fetchone()
                    value, small, symbol = row
                    shown, flag = _council_value(value, symbol, small, False)
                    figures[(period, "council", measure, "value", "")] = shown
                    figures[(period, "council", measure, "flag", "")] = flag
        figures |= _expected_neighbours(con, chain[year], year)
        figures |= _expected_ranking(con, chain[year], year, figures)
    return figures


def _council_value(value: object, symbol: str, small: bool, small_base: bool) -> tuple[object, str]:
    """What the pack shows for one of the council's figures, and the flag beside it (restated rule)."""
    if small or symbol == "c":
        return "c", ""
    if value is None:
        return symbol or "x", ""
    return value, "; ".join(f for f in (symbol, "small base" if small_base else "") if f)


def _expected_neighbours(con: duckdb.DuckDBPyConnection, code: str, year: int) -> dict[tuple, object]:
    rows = con.execute(
        """
        select measure, neighbour_old_la_code, round(neighbour_value, 1), coalesce(dfe_status, ''), is_small_base
        from fct_statistical_neighbour_values where old_la_code = ? and time_period = ?
        """,
        [code, year],
    ).fetchall()
    found = {}
    for measure, neighbour, value, status, small_base in rows:
        if measure in TRENDS:
            flag = "; ".join(f for f in (status, "small base" if small_base else "") if f)
            found[(year, "neighbour", measure, "value", neighbour)] = ("x" if value is None else value, flag)
    assert len({key[4] for key in found}) == 10, "the model lists ten neighbours"
    return found


def _expected_ranking(con: duckdb.DuckDBPyConnection, code: str, year: int, figures: dict) -> dict[tuple, object]:
    rows = con.execute(
        """
        select measure, old_la_code, la_rank, round(la_value, 1)
        from fct_workforce_benchmarks where time_period = ? and la_rank is not null
        """,
        [year],
    ).fetchall()
    found = {}
    for measure, council, rank, value in rows:
        if measure not in TRENDS or (council == code and figures[(year, "council", measure, "rank", "")] is None):
            continue
        found[(year, "ranking", measure, "rank", council)] = rank
        found[(year, "ranking", measure, "value", council)] = value
    return found


def _text(measure: str, value: object, *, change: bool = False) -> str:
    """How the HTML writes a figure, restated: separators, decimals, % or pp."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    d = _decimals(measure)
    if change:
        text = f"{value:+.{d}f}" if value else f"{0:.{d}f}"
        return f"{text} pp" if measure in RATES else text
    text = f"{value:,.{d}f}"
    return f"{text}%" if measure in RATES else text


def _same(found: object, wanted: object) -> bool:
    if wanted is None or wanted == "":
        return found in (None, "")
    if isinstance(wanted, str):
        return found == wanted
    if isinstance(wanted, tuple):
        return isinstance(found, tuple) and all(_same(f, w) for f, w in zip(found, wanted, strict=True))
    return isinstance(found, int | float) and abs(found - wanted) < 1e-9


# ---- readers --------------------------------------------------------------------------------


def _number(text: str) -> float | None:
    return float(text) if text else None


def read_csv(path: Path) -> dict[tuple, object]:
    found: dict[tuple, object] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            key = (int(row["time_period"]), row["role"], row["measure"])
            assert (*key, "value", "") not in found, f"duplicate row {key}"
            found[(*key, "value", "")] = row["symbol"] or _number(row["value"])
            if row["role"] == "council":
                found[(*key, "flag", "")] = row["flag"]
            if row["role"] == "council" and row["measure"] in BENCHMARKED:
                found[(*key, "rank", "")] = _number(row["rank"])
                found[(*key, "ranked_units", "")] = _number(row["ranked_units"])
                found[(*key, "quartile_band", "")] = row["quartile_band"] or None
                found[(*key, "not_ranked_reason", "")] = row["not_ranked_reason"]
                found[(*key, "change_from_previous_year", "")] = _number(row["change_from_previous_year"])
            if row["role"] == "statistical_neighbours":
                found[(*key, "sn_mean_value", "")] = _number(row["sn_mean_value"])
                found[(*key, "sn_median_value", "")] = _number(row["sn_median_value"])
                found[(*key, "sn_neighbour_count", "")] = _number(row["sn_neighbour_count"])
            if row["role"] in ("region", "england"):
                found[(*key, "recomputed_value", "")] = _number(row["recomputed_value"])
                found[(*key, "difference", "")] = _number(row["difference"])
    with path.with_name(f"{path.stem}_neighbours.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            key = (int(row["time_period"]), "neighbour", row["measure"], "value", row["neighbour_old_la_code"])
            found[key] = (_number(row["value"]) if row["value"] else "x", row["flag"])
    with path.with_name(f"{path.stem}_ranking.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            key = (int(row["time_period"]), "ranking", row["measure"])
            found[(*key, "rank", row["old_la_code"])] = int(row["rank"])
            found[(*key, "value", row["old_la_code"])] = _number(row["value"])
    return found


class _FigureCells(HTMLParser):
    """Collects every element carrying data-field, and the text of every other table cell."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: dict[tuple, str] = {}
        self.unlabelled: list[str] = []
        self._open: list[tuple[tuple | None, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("td", "span"):
            a = dict(attrs)
            key = None
            if "data-field" in a:
                key = (int(a["data-year"]), a["data-role"], a["data-measure"], a["data-field"], a.get("data-area", ""))
            self._open.append((key, []))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "span") and self._open:
            key, parts = self._open.pop()
            text = "".join(parts).strip()
            if key:
                assert key not in self.figures or self.figures[key] == text, f"{key} shown two ways"
                self.figures[key] = text
            elif tag == "td":
                self.unlabelled.append(text)
            if self._open and not key:
                self._open[-1][1].append(text)

    def handle_data(self, data: str) -> None:
        if self._open:
            self._open[-1][1].append(data)


def read_html(path: Path) -> _FigureCells:
    parser = _FigureCells()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def _named_rows(workbook: openpyxl.Workbook, name: str) -> list[list[object]]:
    sheet_title, cells = next(iter(workbook.defined_names[name].destinations))
    return [[cell.value for cell in row] for row in workbook[sheet_title][cells.replace("$", "")]]


def _named_ranges(workbook: openpyxl.Workbook) -> dict[str, list[tuple[int, int, int, int]]]:
    ranges: dict[str, list[tuple[int, int, int, int]]] = {}
    for defined in workbook.defined_names.values():
        for sheet_title, cells in defined.destinations:
            ranges.setdefault(sheet_title, []).append(openpyxl.utils.cell.range_boundaries(cells.replace("$", "")))
    return ranges


def _labels() -> dict[str, str]:
    return {measure.label: name for name, measure in registry.measures().items()}


def _symbol_or(cell: object) -> object:
    """A band cell holds a band, 'not ranked', or a withheld value's symbol: only a band is a band."""
    return None if cell in ("not ranked", *SYMBOL_TEXTS) else cell


def read_xlsx(path: Path, year: int, codes: dict[str, str]) -> dict[tuple, object]:
    """`codes`: council name → code, to key the neighbour and ranking tables as the other formats do."""
    workbook = openpyxl.load_workbook(path)
    labels = _labels()
    found: dict[tuple, object] = {}

    def put(key: tuple, value: object) -> None:
        assert key not in found or _same(value, found[key]), f"{key}: {value!r} and {found[key]!r}"
        found[key] = value

    header, *rows = _named_rows(workbook, "comparison")
    fields = [
        ("council", "value"),
        ("council", "flag"),
        ("council", "change_from_previous_year"),
        ("statistical_neighbours", "value"),
        ("statistical_neighbours", "sn_mean_value"),
        ("statistical_neighbours", "sn_median_value"),
        ("statistical_neighbours", "sn_neighbour_count"),
        ("region", "value"),
        ("england", "value"),
        ("council", "rank"),
        ("council", "ranked_units"),
        ("council", "quartile_band"),
    ]
    assert header[:2] == ["Measure", "Year"] and header[-1] == "Quartile band (A = best)"
    for row in rows:
        measure, period = labels[row[0]], row[1]
        for (role, field), cell in zip(fields, row[2:], strict=True):
            if field == "quartile_band":
                cell = _symbol_or(cell)
            if field in ("sn_mean_value", "sn_median_value") and cell == "x":
                cell = None
            put((period, role, measure, field, ""), cell or ("" if field == "flag" else cell))

    header, *rows = _named_rows(workbook, "headline")
    for row in rows:
        measure = labels[row[0]]
        put((year, "council", measure, "value", ""), row[1])
        put((year, "council", measure, "flag", ""), row[2] or "")
        put((year, "council", measure, "change_from_previous_year", ""), row[3])
        put((year, "statistical_neighbours", measure, "value", ""), row[4])
        put((year, "region", measure, "value", ""), row[5])
        put((year, "england", measure, "value", ""), row[6])
        if row[7]:
            rank, ranked = row[7].split(" of ")
            put((year, "council", measure, "rank", ""), int(rank))
            put((year, "council", measure, "ranked_units", ""), int(ranked))
        put((year, "council", measure, "quartile_band", ""), _symbol_or(row[8]))

    header, *rows = _named_rows(workbook, "key_counts")
    years = [int(y.split()[0]) for y in header[1::2]]  # '2020 (Northamptonshire)' for a replaced council's year
    for row in rows:
        for position, period in enumerate(years):
            put((period, "council", labels[row[0]], "value", ""), row[1 + 2 * position])
            put((period, "council", labels[row[0]], "flag", ""), row[2 + 2 * position] or "")

    header, *rows = _named_rows(workbook, "comparators")
    for row in rows:
        measure = labels[row[0]]
        for offset, role in ((1, "region"), (4, "england")):
            put((year, role, measure, "value", ""), row[offset])
            put((year, role, measure, "recomputed_value", ""), row[offset + 1])
            put((year, role, measure, "difference", ""), row[offset + 2])

    header, *rows = _named_rows(workbook, "neighbours")
    trend_columns = [(labels[header[i]], i) for i in range(2, len(header), 2)]
    for row in rows:
        if row[0] is None:
            continue  # the mean and the council's own rows
        name = row[1].split(" (figures of ")[0]
        for measure, column in trend_columns:
            put((year, "neighbour", measure, "value", codes[name]), (row[column], row[column + 1] or ""))

    for measure in TRENDS:
        if f"ranking_{measure}" not in workbook.defined_names:
            continue
        header, *rows = _named_rows(workbook, f"ranking_{measure}")
        for rank, name, value in rows:
            put((year, "ranking", measure, "rank", codes[name]), rank)
            put((year, "ranking", measure, "value", codes[name]), value)

    roles = ("council", "statistical_neighbours", "region", "england")
    for measure in TRENDS:
        header, *rows = _named_rows(workbook, f"trend_{measure}")
        assert header[0] == "Year" and header[-1] == "Missing or withheld"
        for row in rows:
            symbols = dict(part.rsplit(": ", 1) for part in (row[5] or "").split("; ") if part)
            names = dict(zip(header[1:5], roles, strict=True))
            withheld = {names[next(h for h in header[1:5] if h.startswith(n))]: s for n, s in symbols.items()}
            for role, cell in zip(roles, row[1:5], strict=True):
                put((row[0], role, measure, "value", ""), withheld.get(role, cell))
    return found


def _council_codes(database: Path, year: int) -> dict[str, str]:
    """Council name → code, for the names the workbook shows (ranked units and listed neighbours)."""
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute(
            "select la_name, old_la_code from fct_workforce_benchmarks where time_period = ? "
            "union select neighbour_name, neighbour_old_la_code from fct_statistical_neighbour_values "
            "where time_period = ?",
            [year, year],
        ).fetchall()
    return dict(rows)


# ---- tests ----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", list(CASES))
def test_every_csv_figure_equals_the_published_tables(published: Path, packs: dict, case: str) -> None:
    expected = expected_figures(published, case)
    found = read_csv(packs[(case, "csv")])
    with packs[(case, "csv")].open(encoding="utf-8") as handle:
        council = {(r["time_period"], r["area_code"]) for r in csv.DictReader(handle) if r["role"] == "council"}
    assert council == {(str(year), code) for year, code in CASES[case]["chain"].items()}
    assert CASES[case]["chain"][CASES[case]["year"]] == CASES[case]["unit"]
    assert set(found) == set(expected), "the CSV files have exactly the pack's figures, no more, no fewer"
    wrong = {key: (found[key], expected[key]) for key in expected if not _same(found[key], expected[key])}
    assert not wrong


@pytest.mark.parametrize("case", list(CASES))
def test_every_xlsx_figure_equals_the_published_tables(published: Path, packs: dict, case: str) -> None:
    expected = expected_figures(published, case)
    path = packs[(case, "xlsx")]
    year = CASES[case]["year"]
    found = read_xlsx(path, year, _council_codes(published, year))
    assert set(found) <= set(expected)
    # Every value, and every other field of the comparison years, except what the workbook states in
    # words (why a value is not ranked) or for the pack's year only (recomputed comparators).
    required = {
        k
        for k in expected
        if (k[3] == "value" or k[0] in (year, year - 1))
        and k[3] != "not_ranked_reason"
        and (k[3] not in ("recomputed_value", "difference") or k[0] == year)
    }
    assert required <= set(found)
    wrong = {key: (found[key], expected[key]) for key in found if not _same(found[key], expected[key])}
    assert not wrong
    # No number hides outside a named table: every numeric cell is a figure checked above.
    workbook = openpyxl.load_workbook(path)
    ranges = _named_ranges(workbook)
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, int | float):
                    inside = any(
                        c1 <= cell.column <= c2 and r1 <= cell.row <= r2
                        for c1, r1, c2, r2 in ranges.get(sheet.title, [])
                    )
                    assert inside, f"{sheet.title}!{cell.coordinate} = {cell.value} is outside every named table"


def _html_text(key: tuple, wanted: object, expected: dict) -> str:
    """How the page writes an expected figure (restated)."""
    year, role, measure, field, _ = key
    if field == "quartile_band":
        if wanted:
            return wanted
        value = expected[(year, role, measure, "value", "")]
        return (
            value if isinstance(value, str) else "not ranked" if expected[(*key[:3], "not_ranked_reason", "")] else ""
        )
    if field in ("rank", "ranked_units", "sn_neighbour_count"):
        return "" if wanted is None else str(wanted)
    if field == "flag":
        return wanted
    if role == "neighbour":
        value, flag = wanted
        return f"{_text(measure, value)} {flag}".strip()
    change = field in ("change_from_previous_year", "difference")
    return "x" if wanted is None and not change else _text(measure, wanted, change=change)


@pytest.mark.parametrize("case", list(CASES))
def test_every_html_figure_equals_the_published_tables(published: Path, packs: dict, case: str) -> None:
    expected = expected_figures(published, case)
    page = read_html(packs[(case, "html")])
    assert {k for k in expected if k[3] == "value"} <= set(page.figures)
    wrong = {
        key: (text, expected[key])
        for key, text in page.figures.items()
        if text != _html_text(key, expected[key], expected)
    }
    assert not wrong
    # Cells without figure attributes hold labels or years, never a number that escaped the check.
    years = set(CASES[case]["chain"])
    for text in page.unlabelled:
        assert not re.fullmatch(r"[-+]?[\d,]+(\.\d+)?%?( pp)?", text) or int(text) in years or int(text) <= 10, text


def test_html_is_self_contained(packs: dict) -> None:
    page = packs[("reorganised", "html")].read_text(encoding="utf-8")
    assert "<script" not in page and "<link" not in page and "@import" not in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert not re.search(r"url\((?!#)", page), "only references inside the page (SVG clip paths)"
    ranked = [m for m in TRENDS if registry.measures()[m].polarity != "neutral"]
    assert page.count("<svg") == len(TRENDS) + len(ranked), "a trend chart per trend measure, a ranking per ranked one"


def test_reorganised_council_uses_its_predecessor_and_says_so(packs: dict) -> None:
    rows = list(csv.DictReader(packs[("reorganised", "csv")].open(encoding="utf-8")))
    codes = {(r["time_period"], r["area_code"]) for r in rows if r["role"] == "council"}
    assert ("2017", "928") in codes and ("2020", "928") in codes and ("2021", "940 / 941") in codes
    notes = packs[("reorganised", "csv")].with_name("reorganised_notes.csv").read_text(encoding="utf-8")
    assert "Figures for 2017\N{EN DASH}2020 are those of Northamptonshire" in notes
    assert "You asked for North Northamptonshire (940)" in notes
    workbook = openpyxl.load_workbook(packs[("reorganised", "xlsx")])
    header = _named_rows(workbook, "trend_turnover_rate_fte")[0]
    assert header[1] == "North Northamptonshire / West Northamptonshire (to 2020: Northamptonshire)"
    # Native Excel line charts, one per trend measure, each with four series fed from the data sheet.
    chart_ns = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"
    with zipfile.ZipFile(packs[("reorganised", "xlsx")]) as archive:
        charts = [ElementTree.fromstring(archive.read(n)) for n in archive.namelist() if n.startswith("xl/charts/")]
    assert len(charts) == len(TRENDS)
    for chart in charts:
        (line,) = chart.iter(f"{chart_ns}lineChart")
        series = line.findall(f"{chart_ns}ser")
        assert len(series) == 4
        assert all(f.text.startswith("'Chart data'!") for f in line.iter(f"{chart_ns}f"))


def test_joint_return_pack_is_the_joint_units_whoever_is_asked_for(published: Path, capsys) -> None:
    for asked in ("940", "941", "West Northamptonshire", "940/941"):
        assert cli.main(["extract", "--la", asked, "--format", "csv"]) == 0
        printed = capsys.readouterr().out.split()
        assert printed[0] == str(paths.data_dir() / "packs" / "940-941_2024.csv")
    notes = (paths.data_dir() / "packs" / "940-941_2024_notes.csv").read_text(encoding="utf-8")
    assert "make one workforce return, reported as 940 / 941" in notes


def test_suppressed_values_are_symbols_with_reasons(packs: dict) -> None:
    rows = {
        (r["time_period"], r["measure"]): r
        for r in csv.DictReader(packs[("suppressed", "csv")].open(encoding="utf-8"))
        if r["role"] == "council"
    }
    scilly = rows[("2024", "agency_headcount")]
    assert (scilly["value"], scilly["symbol"]) == ("", "c") and "fewer than 5 people" in scilly["symbol_meaning"]
    assert rows[("2024", "agency_rate_fte")]["rank"] == ""  # a rank would give the withheld rate back
    assert rows[("2024", "turnover_rate_fte")]["symbol"] == "z"
    birmingham = {
        r["measure"]: r
        for r in csv.DictReader(packs[("low_reliability", "csv")].open(encoding="utf-8"))
        if r["role"] == "council" and r["time_period"] == "2024"
    }
    assert (
        birmingham["caseload_fte"]["symbol"] == "u"
        and "low reliability" in birmingham["caseload_fte"]["symbol_meaning"]
    )
    # DfE's u: shown, but not ranked, and the pack says why.
    assert birmingham["caseload_fte"]["rank"] == "" and birmingham["caseload_fte"]["not_ranked_reason"]
    notes = packs[("low_reliability", "csv")].with_name("low_reliability_notes.csv").read_text(encoding="utf-8")
    assert "2024 — u, low reliability (DfE): Agency workers (FTE), Agency workers (headcount)," in notes
    # DfE's figures only here: every comparator shown is DfE's own.
    assert {
        r["value_source"]
        for r in csv.DictReader(packs[("low_reliability", "csv")].open(encoding="utf-8"))
        if r["role"] in ("region", "england")
    } == {"dfe_published"}


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_worker_level_field_in_any_pack(packs: dict, fmt: str) -> None:
    for (case, kind), path in packs.items():
        if kind != fmt:
            continue
        if fmt == "xlsx":
            workbook = openpyxl.load_workbook(path)
            text = " ".join(
                str(cell.value)
                for sheet in workbook.worksheets
                for row in sheet.iter_rows()
                for cell in row
                if cell.value
            )
        else:
            text = path.read_text(encoding="utf-8")
            if fmt == "csv":
                text += path.with_name(f"{case}_notes.csv").read_text(encoding="utf-8")
        assert not WORKER_LEVEL.search(text), (case, WORKER_LEVEL.search(text))
    if fmt == "csv":
        header = packs[("joint", "csv")].read_text(encoding="utf-8").splitlines()[0].split(",")
        assert tuple(header) == FIGURE_COLUMNS


def test_unknown_council_lists_close_matches_and_exits_2(published: Path, capsys) -> None:
    assert cli.main(["extract", "--la", "Northamptonshre"]) == 2
    message = capsys.readouterr().err
    assert "No council in the published tables matches 'Northamptonshre'" in message
    for code, name in (
        ("928", "Northamptonshire"),
        ("940", "North Northamptonshire"),
        ("941", "West Northamptonshire"),
    ):
        assert re.search(rf"{code}\s+{name}\n", message)


def test_unknown_year_lists_the_years_available(published: Path, capsys) -> None:
    assert cli.main(["extract", "--la", "330", "--year", "2031"]) == 2
    assert "Birmingham (330) has no figures for 2031. Years available: 2017\N{EN DASH}2024." in capsys.readouterr().err
    assert cli.main(["extract", "--la", "940", "--year", "2019"]) == 2
    assert "ask for the council it replaced: 928" in capsys.readouterr().err


# The measures each format shows a figure for, read back as a person's tools would.
MEASURES_SHOWN = {
    "csv": lambda path: {row["measure"] for row in csv.DictReader(path.open(encoding="utf-8"))},
    "html": lambda path: {key[2] for key in read_html(path).figures},
    "xlsx": lambda path: {
        _labels()[row[0]]
        for name in ("comparison", "key_counts")
        for row in _named_rows(openpyxl.load_workbook(path), name)[1:]
    },
}


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_registry_measure_is_in_every_pack_format(packs: dict, fmt: str) -> None:
    assert set(MEASURES_SHOWN) == set(PACK_FORMATS), "a new pack format needs a reader here"
    assert MEASURES_SHOWN[fmt](packs[("joint", fmt)]) == set(registry.measures())


def test_dim_measures_publishes_the_registry(published: Path) -> None:
    with duckdb.connect(str(published), read_only=True) as con:
        rows = con.execute(
            "select measure, measure_label, kind, unit, decimals, definition, polarity, is_benchmarked,"
            " in_pack_trends, valid_min, valid_max from dim_measures order by ees_order"
        ).fetchall()
        columns = [c[0] for c in con.execute("describe fct_workforce_indicators").fetchall()]
    assert rows == [
        (
            m.name,
            m.label,
            m.kind,
            m.unit,
            m.decimals,
            m.definition,
            m.polarity,
            m.benchmarked,
            m.in_pack_trends,
            m.valid.min,
            m.valid.max,
        )
        for m in registry.measures().values()
    ]
    assert columns[-len(rows) :] == [row[0] for row in rows], "every measure is a column, in EES order"


# ---- the packs as printed: A4 landscape, nothing wider than the page, the warning on every page ---

A4_LANDSCAPE_POINTS = (842, 595)
A4_LANDSCAPE_WIDTH_MM = 297
PRINT_TOOLS = ("soffice", "pdftotext", "pdfinfo")
# The width inside the page's @page margins, in CSS pixels, measured by the browser itself.
PRINTABLE_WIDTH_JS = """(paperMm) => {
  const rule = [...document.styleSheets].flatMap(s => [...s.cssRules]).find(r => r instanceof CSSPageRule);
  const probe = document.createElement("div");
  const margins = `${rule.style.marginLeft} - ${rule.style.marginRight}`;
  probe.style.cssText = `position: absolute; width: calc(${paperMm}mm - ${margins})`;
  document.body.appendChild(probe);
  const width = probe.getBoundingClientRect().width;
  probe.remove();
  return width;
}"""
# Every element reaching past the page's right edge (and so clipped or shrunk in print).
OVERFLOWING_JS = """() => {
  const limit = document.documentElement.clientWidth;
  const wide = [...document.body.querySelectorAll("*")].filter(e => e.getBoundingClientRect().right > limit + 0.5);
  return {scroll: document.documentElement.scrollWidth, limit,
          wide: wide.slice(0, 10).map(e => `${e.tagName} ${e.className} ${e.textContent.slice(0, 40)}`)};
}"""


def _words(text: str) -> set[str]:
    """A printed page's words: pdftotext may interleave the lines of header cells side by side,
    but each word stays whole (unless the print broke it, which is a flaw)."""
    return set(text.split())


@pytest.fixture(scope="module")
def printed(published: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The reorganised council's pack (the longest names, a predecessor's years in the labels),
    marked as built from synthetic returns, printed as a reader would: HTML by chromium, XLSX by
    LibreOffice (tools `make pack-screens` uses too)."""
    missing = [tool for tool in PRINT_TOOLS if shutil.which(tool) is None]
    if missing or not pack_screens.CHROMIUM.exists():
        pytest.skip(f"printing needs {pack_screens.CHROMIUM}, LibreOffice and poppler-utils (missing: {missing})")
    pack = content.build_pack(CASES["reorganised"]["ask"], None, configured_pack_views())
    pack.is_synthetic = True
    folder = tmp_path_factory.mktemp("printed")
    page, workbook = write_html(pack, folder / "pack.html"), write_xlsx(pack, folder / "pack.xlsx")
    with pack_screens.chromium() as browser:
        html_pdf = pack_screens.print_html(browser, page, folder / "pack_html.pdf")
    xlsx_pdf = pack_screens.print_xlsx(workbook, folder / "pack_xlsx.pdf")
    return {
        "html": page,
        "html_pdf": html_pdf,
        "xlsx": workbook,
        "xlsx_pdf": xlsx_pdf,
        "footer": f"{pack.unit.name}, {pack.year}: ",  # each XLSX page's footer: <council>, <year>: <sheet>
    }


@pytest.mark.parametrize("fmt", ["html", "xlsx"])
def test_printed_pack_is_a4_landscape_with_the_synthetic_warning_and_page_number_on_every_page(
    printed: dict, fmt: str
) -> None:
    pdf = printed[f"{fmt}_pdf"]
    sizes = pack_screens.page_sizes(pdf)
    assert len(sizes) > 1 and set(sizes) == {A4_LANDSCAPE_POINTS}
    for number, text in enumerate(pack_screens.page_texts(pdf), start=1):
        assert SYNTHETIC_PAGE_MARK in text, f"page {number} does not say the data are synthetic"
        assert f"Page {number} of {len(sizes)}" in text, f"page {number}'s footer is missing or clipped"


def test_every_xlsx_sheet_prints_one_page_wide_with_its_header_on_every_page(printed: dict) -> None:
    workbook = openpyxl.load_workbook(printed["xlsx"])
    texts = pack_screens.page_texts(printed["xlsx_pdf"])
    owners = pack_screens.sheet_of_each_page(texts, workbook.sheetnames, printed["footer"])
    for sheet in workbook:
        setup = sheet.page_setup
        assert (setup.orientation, str(setup.paperSize), setup.fitToWidth) == ("landscape", sheet.PAPERSIZE_A4, 1)
        assert sheet.sheet_properties.pageSetUpPr.fitToPage, sheet.title
        pages = [text for text, owner in zip(texts, owners, strict=True) if owner == sheet.title]
        assert pages, f"{sheet.title} printed nothing"
        if setup.fitToHeight == 1:
            assert len(pages) == 1, f"{sheet.title} is meant to print on one page"
        if len(pages) > 1:
            assert sheet.print_title_rows or sheet.row_breaks.brk, f"{sheet.title}: pages after the first lack a header"
        if sheet.print_title_rows:
            header = int(sheet.print_title_rows.split(":")[0].strip("$"))
            labels = [str(cell.value) for cell in sheet[header] if cell.value is not None]
            for number, text in enumerate(pages, start=1):
                absent = [label for label in labels if not set(label.split()) <= _words(text)]
                assert not absent, f"{sheet.title} page {number} lacks the header's {absent}"


def test_html_pack_is_no_wider_than_the_printed_page(printed: dict) -> None:
    with pack_screens.chromium() as browser:
        tab = browser.new_page()
        tab.goto(printed["html"].as_uri())
        tab.emulate_media(media="print")
        width = tab.evaluate(PRINTABLE_WIDTH_JS, A4_LANDSCAPE_WIDTH_MM)
        assert 900 < width < 1100, "A4 landscape less its margins is about 1,000 CSS pixels"
        tab.set_viewport_size({"width": math.floor(width), "height": 800})
        found = tab.evaluate(OVERFLOWING_JS)
    assert found["scroll"] <= found["limit"] and not found["wide"], found
