"""The pack model shared by the three formats: measures, figures, Ofsted context and notes.

`Pack.figures` is tidy: one row per year, role (the council, its statistical neighbours, its
region, England) and measure, with the value, or the symbol shown in its place and why. The
views below (`comparison`, `trend`, `counts`) only reshape it, so every format shows the same
figures.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from orchestration.lib import measures as registry
from orchestration.lib.publish.packs.lookup import Council

ROLES = ("council", "statistical_neighbours", "region", "england")
TREND_YEARS = 5
ENGLAND_CODE = "E92000001"

# DfE's symbols for a value it did not publish (EES conventions), from the measure registry. The
# pack's own small-number suppression also shows `c`, with its own reason (see `suppression`).
SYMBOLS = registry.dfe_symbols()
MISSING_SYMBOL = "x"

# Columns of `Pack.figures`, in order: the tidy CSV writes exactly these.
FIGURE_COLUMNS = (
    "time_period",
    "role",
    "area_code",
    "area_name",
    "measure",
    "measure_label",
    "unit",
    "value",
    "symbol",
    "symbol_meaning",
    "rank",
    "ranked_units",
    "quartile_band",
    "change_from_previous_year",
    "sn_mean_value",
    "sn_median_value",
    "sn_neighbour_count",
    "sn_model",
    "source",
    "return_status",
)


@dataclass(frozen=True)
class Measure:
    """One row of the published dim_measures, the columns a pack uses."""

    name: str
    label: str
    kind: str
    unit: str
    decimals: int
    polarity: str | None
    is_benchmarked: bool
    in_pack_trends: bool
    definition: str

    @property
    def is_count(self) -> bool:
        return self.kind == registry.COUNT


@dataclass(frozen=True)
class Inspection:
    council_code: str
    council_name: str
    inspection_date: dt.date
    publication_date: dt.date
    inspection_type: str
    overall_effectiveness: str
    sub_judgements: dict[str, str | None]


@dataclass(frozen=True)
class JudgementInForce:
    overall_effectiveness: str
    inspection_date: dt.date
    publication_date: dt.date
    judged_code: str
    judged_name: str


@dataclass(frozen=True)
class YearSource:
    """Whose figures stand for the unit in a year, and where they came from."""

    year: int
    area_code: str
    area_name: str
    source: str
    return_status: str


@dataclass(frozen=True)
class Note:
    section: str
    text: str
    term: str = ""  # what a definition defines, e.g. a measure's label


@dataclass
class Pack:
    unit: Council
    asked_for: Council
    year: int
    previous_year: int | None
    trend_years: tuple[int, ...]
    measures: dict[str, Measure]
    figures: pd.DataFrame
    year_sources: dict[int, YearSource]
    sn_model: int | None
    neighbours: tuple[Council, ...]
    judgement_in_force: JudgementInForce | None
    latest_inspections: tuple[Inspection, ...]
    not_inspected: tuple[Council, ...]
    region_name: str
    published_version: str | None
    published_at: str | None
    notes: list[Note] = field(default_factory=list)

    @property
    def comparison_years(self) -> tuple[int, ...]:
        return (self.year, self.previous_year) if self.previous_year else (self.year,)

    @property
    def benchmark_measures(self) -> list[str]:
        return [m.name for m in self.measures.values() if m.is_benchmarked]

    @property
    def trend_measures(self) -> list[str]:
        return [m.name for m in self.measures.values() if m.in_pack_trends]

    @property
    def count_measures(self) -> list[str]:
        return [m.name for m in self.measures.values() if m.is_count]

    def year_label(self, year: int) -> str:
        """'2022', or '2022 (Cumbria)' when that year's figures are the replaced council's."""
        source = self.year_sources[year]
        return str(year) if source.area_code == self.unit.code else f"{year} ({source.area_name})"

    def role_name(self, role: str) -> str:
        return {
            "council": self.unit.name,
            "statistical_neighbours": "Statistical neighbours",
            "region": self.region_name,
            "england": "England",
        }[role]

    def comparison(self) -> pd.DataFrame:
        """One row per benchmarked measure and comparison year (the year first), the roles side by side."""
        frame = self.figures[self.figures.time_period.isin(self.comparison_years)]
        frame = frame[frame.measure.isin(self.benchmark_measures)]
        council = frame[frame.role == "council"].set_index(["measure", "time_period"])
        rows = []
        for measure in self.benchmark_measures:
            for year in self.comparison_years:
                if (measure, year) not in council.index:
                    continue
                own = council.loc[(measure, year)]
                row = {"measure": measure, "time_period": year}
                for column in ("value", "symbol", "rank", "ranked_units", "quartile_band", "change_from_previous_year"):
                    row[column] = own[column]
                for role in ROLES[1:]:
                    other = frame[(frame.role == role) & (frame.measure == measure) & (frame.time_period == year)]
                    record = other.iloc[0]
                    row[f"{role}_value"] = record.value
                    if role == "statistical_neighbours":
                        row["sn_mean_value"] = record.sn_mean_value
                        row["sn_median_value"] = record.sn_median_value
                        row["sn_neighbour_count"] = record.sn_neighbour_count
                rows.append(row)
        return pd.DataFrame(rows)

    def trend(self, measure: str) -> pd.DataFrame:
        """Years down, roles across (values, NaN where withheld), for one trend measure."""
        frame = self.figures[(self.figures.measure == measure) & self.figures.time_period.isin(self.trend_years)]
        table = frame.pivot(index="time_period", columns="role", values="value")
        return table.reindex(index=list(self.trend_years), columns=list(ROLES))

    def counts(self) -> pd.DataFrame:
        """Key counts of the council: one row per count measure, one value and symbol column per year."""
        frame = self.figures[(self.figures.role == "council") & self.figures.measure.isin(self.count_measures)]
        rows = []
        for measure in self.count_measures:
            row: dict[str, object] = {"measure": measure}
            for year in self.comparison_years:
                record = frame[(frame.measure == measure) & (frame.time_period == year)]
                if len(record):
                    row[f"value_{year}"] = record.iloc[0].value
                    row[f"symbol_{year}"] = record.iloc[0].symbol
            rows.append(row)
        return pd.DataFrame(rows)

    def missing_values(self) -> pd.DataFrame:
        """The council's figures shown as a symbol, with why."""
        frame = self.figures[(self.figures.symbol != "") & (self.figures.role == "council")]
        return frame.sort_values(["time_period", "measure"], ascending=[False, True])


def load_measures(con: duckdb.DuckDBPyConnection) -> dict[str, Measure]:
    """Every measure as published in dim_measures, in DfE's order."""
    rows = con.execute(
        """
        select measure, measure_label, kind, unit, decimals, polarity, is_benchmarked, in_pack_trends, definition
        from dim_measures
        order by ees_order
        """
    ).fetchall()
    return {row[0]: Measure(*row) for row in rows}
