"""The pack model shared by the formats: measures, figures, neighbours, rankings, Ofsted and notes.

`Pack.figures` is tidy: one row per year, role (the council, its statistical neighbours, its
region, England) and measure, with the value, or the symbol shown in its place and why, and the
flag shown beside a value (DfE's symbol for it, a small base). Region and England are DfE's
published figures where DfE published them, with the recomputed figure and the difference beside.
`Pack.neighbours_table` holds each listed neighbour's value and `Pack.ranking` every council's
rank in the pack's year. The views below only reshape them, so every format shows the same figures.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from orchestration.lib import measures as registry
from orchestration.lib.publish.packs.lookup import Council

if TYPE_CHECKING:
    from orchestration.lib.publish.packs.source import PublishedView

ROLES = ("council", "statistical_neighbours", "region", "england")
ENGLAND_CODE = "E92000001"

# DfE's symbols for a value it did not publish (EES conventions), from the measure registry. The
# pack's own small-number suppression also shows `c`, with its own reason (see `suppression`).
SYMBOLS = registry.dfe_symbols()
MISSING_SYMBOL = "x"
# Another council's provisional figure the reader's council may not see (packs/source.py): the
# pack and the portal's pages say it in these words.
WITHHELD_FLAG = "withheld"
WITHHELD_BY_AGREEMENT = "provisional figure the council does not share with you under the data-sharing agreement"
PROVISIONAL_GROUP_MINIMUM = 3
"""A provisional neighbours/region/England figure is shown to a council only when it pools at least
this many other councils, so no single council's unpublished figure can be worked out from it."""
THIN_PROVISIONAL_GROUP = f"provisional figure pooling fewer than {PROVISIONAL_GROUP_MINIMUM} other councils"

# Where a comparator comes from (the marts' *_value_source), as a reader is told.
VALUE_SOURCES = {
    "dfe_published": "DfE's published figure",
    "provisional": "provisional: recomputed here, DfE has not published this year yet",
    "recomputed": "recomputed here: DfE publishes no figure for it",
}

SYNTHETIC_BANNER = (
    "SYNTHETIC DEMONSTRATION DATA: these figures come from returns made by this project's "
    "synthetic-return generator, not from any council's real workforce."
)
# The same warning, short enough for the header or footer of every printed page.
SYNTHETIC_PAGE_MARK = "SYNTHETIC DEMONSTRATION DATA: not a council's real workforce"

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
    "flag",
    "flag_meaning",
    "value_source",
    "recomputed_value",
    "difference",
    "rank",
    "ranked_units",
    "quartile_band",
    "not_ranked_reason",
    "change_from_previous_year",
    "sn_mean_value",
    "sn_median_value",
    "sn_neighbour_count",
    "sn_model",
    "source",
    "return_status",
    "is_synthetic",
)

# Columns of `Pack.neighbours_table`: one row per listed neighbour and measure, in the pack's year.
NEIGHBOUR_COLUMNS = (
    "time_period",
    "neighbour_rank",
    "neighbour_old_la_code",
    "neighbour_name",
    "standing_for",
    "measure",
    "measure_label",
    "value",
    "flag",
    "flag_meaning",
    "is_in_mean",
)

# Columns of `Pack.ranking`: one row per ranked council and measure, in the pack's year.
RANKING_COLUMNS = (
    "time_period",
    "measure",
    "measure_label",
    "rank",
    "ranked_units",
    "old_la_code",
    "la_name",
    "value",
    "quartile_band",
    "is_this_council",
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
    """Whose figures stand for the unit in a year, from which return, and why."""

    year: int
    area_code: str
    area_name: str
    source: str
    return_status: str
    return_note: str = ""
    return_file_sha256: str | None = None
    return_loaded_at: dt.datetime | None = None
    return_generated_at: str | None = None
    quarantined_file_sha256: str | None = None
    is_synthetic: bool = False


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
    neighbours_table: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(NEIGHBOUR_COLUMNS)))
    ranking: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(RANKING_COLUMNS)))
    is_synthetic: bool = False
    notes: list[Note] = field(default_factory=list)
    withheld_neighbours: tuple[tuple[int, Council], ...] = ()
    """(rank, council) of listed neighbours whose provisional figures the council may not see."""
    withheld_from_ranking: int = 0
    """How many ranked councils' provisional values the ranking leaves out, at most over the measures."""

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
    def ranked_trend_measures(self) -> list[str]:
        """The measures of the all-council ranking: the trend measures that have a better direction."""
        return [m for m in self.trend_measures if self.measures[m].polarity != "neutral"]

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
                for column in (
                    "value",
                    "symbol",
                    "flag",
                    "flag_meaning",
                    "rank",
                    "ranked_units",
                    "quartile_band",
                    "not_ranked_reason",
                    "change_from_previous_year",
                ):
                    row[column] = own[column]
                for role in ROLES[1:]:
                    other = frame[(frame.role == role) & (frame.measure == measure) & (frame.time_period == year)]
                    record = other.iloc[0]
                    row[f"{role}_value"] = record.value
                    row[f"{role}_symbol"] = record.symbol
                    row[f"{role}_flag"] = record.flag
                    row[f"{role}_value_source"] = record.value_source
                    row[f"{role}_recomputed_value"] = record.recomputed_value
                    row[f"{role}_difference"] = record.difference
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
        """Key counts of the council: one row per count measure, value, symbol and flag columns per year."""
        frame = self.figures[(self.figures.role == "council") & self.figures.measure.isin(self.count_measures)]
        rows = []
        for measure in self.count_measures:
            row: dict[str, object] = {"measure": measure}
            for year in self.comparison_years:
                record = frame[(frame.measure == measure) & (frame.time_period == year)]
                if len(record):
                    row[f"value_{year}"] = record.iloc[0].value
                    row[f"symbol_{year}"] = record.iloc[0].symbol
                    row[f"flag_{year}"] = record.iloc[0].flag
            rows.append(row)
        return pd.DataFrame(rows)

    def neighbour_grid(self) -> pd.DataFrame:
        """Listed neighbours down (most similar first), one value and one flag column per trend measure."""
        frame = self.neighbours_table
        rows = []
        for rank in sorted(set(frame.neighbour_rank)):
            own = frame[frame.neighbour_rank == rank]
            first = own.iloc[0]
            row: dict[str, object] = {
                "neighbour_rank": rank,
                "neighbour_name": first.neighbour_name,
                "neighbour_old_la_code": first.neighbour_old_la_code,
                "standing_for": first.standing_for,
            }
            for record in own.itertuples(index=False):
                row[f"value_{record.measure}"] = record.value
                row[f"flag_{record.measure}"] = record.flag
            rows.append(row)
        return pd.DataFrame(rows)

    def ranking_of(self, measure: str) -> pd.DataFrame:
        """Every ranked council for one measure in the pack's year, best first."""
        frame = self.ranking[self.ranking.measure == measure]
        return frame.sort_values(["rank", "la_name"]).reset_index(drop=True)

    def flagged_values(self) -> pd.DataFrame:
        """The council's figures shown as a symbol or with a flag beside them, with why."""
        council = self.figures[self.figures.role == "council"]
        frame = council[(council.symbol != "") | (council.flag != "")]
        return frame.sort_values(["time_period", "measure"], ascending=[False, True])

    def missing_values(self) -> pd.DataFrame:
        """The council's figures shown as a symbol, with why."""
        frame = self.figures[(self.figures.symbol != "") & (self.figures.role == "council")]
        return frame.sort_values(["time_period", "measure"], ascending=[False, True])


def load_measures(view: PublishedView) -> dict[str, Measure]:
    """Every measure as published in dim_measures, in DfE's order."""
    rows = view.execute(
        """
        select measure, measure_label, kind, unit, decimals, polarity, is_benchmarked, in_pack_trends, definition
        from dim_measures
        order by ees_order
        """
    ).fetchall()
    return {row[0]: Measure(*row) for row in rows}
