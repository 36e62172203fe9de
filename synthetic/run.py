"""`workforce generate`: synthetic CSWW returns for every LA-year DfE published, calibrated to its figures.

The whole of England is always simulated, from the first published year up to the last year asked
for, and only the returns asked for are written. That keeps a file's bytes the same whichever
subset of councils is requested, because people move between councils.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from orchestration.lib import paths
from synthetic.calibration import Targets, calibrate, decimal_text
from synthetic.group_fitting import fit_group_totals
from synthetic.imputation import FilledFigures, fill_suppressed
from synthetic.landing import NOT_OURS, UNCHANGED, WRITTEN, place_return, return_path, sha256
from synthetic.measures import COUNT_UNITS, COUNTS, RATES
from synthetic.people import PersonRegistry
from synthetic.population import Population
from synthetic.release import PublishedRow, Release, load_release
from synthetic.roster import Roster
from synthetic.writer import render_return

GENERATOR = "workforce-synth"
VERSION = "1.1"


class GenerationRefused(ValueError):
    """What was asked for cannot be generated; the message says why and what to ask instead."""


@dataclass(frozen=True)
class GeneratedReturn:
    """One return of a run, with what it was calibrated to."""

    roster: Roster
    targets: Targets
    figures: FilledFigures
    published: PublishedRow

    def software_code(self, scale: float) -> str:
        """The Header's SoftwareCode, which also says what was imputed and any scaling."""
        code = f"{GENERATOR}/{VERSION}"
        imputed = sorted({i.measure for i in self.figures.imputations})
        if imputed:
            code += f"; imputed={','.join(imputed)}"
        if scale != 1:
            code += f"; scale={scale:g}"
        return code

    def sidecar(self, seed: int, scale: float, xml: bytes) -> dict[str, object]:
        roster, targets, row = self.roster, self.targets, self.published
        return {
            "generator": GENERATOR,
            "version": VERSION,
            "seed": seed,
            "scale": scale,
            "calibrated_to_dfe": scale == 1,
            "note": "synthetic data: no real person is described",
            "collection_year": roster.year,
            "old_la_code": roster.unit,
            "la_name": row.la_name,
            "dfe_area_code": row.area_code,
            "dfe_release_file": row.release_file,
            "xml_sha256": sha256(xml),
            "records": len(roster.records["person"]),
            "people": len(np.unique(roster.records["person"])),
            "targets": {measure: targets.text(measure) for measure in COUNTS},
            "group_fitting": {
                measure: decimal_text(amount, COUNT_UNITS[measure]) for measure, amount in targets.moved.items()
            },
            "published": {name: row.text[name] for name in (*COUNTS, *RATES)},
            "imputed": [vars(imputation) for imputation in self.figures.imputations],
            "rates": {
                name: {
                    "published": check.published,
                    "achieved": None if check.achieved is None else round(check.achieved, 4),
                }
                for name, check in targets.rates.items()
            },
            "unmet_rates": targets.unmet,
            "continuity": roster.continuity,
        }


@dataclass
class GenerationSummary:
    out_dir: Path
    seed: int
    scale: float
    written: int = 0
    unchanged: int = 0
    not_ours: list[Path] = field(default_factory=list)
    records: int = 0
    imputed_values: int = 0
    returns_with_imputed_values: int = 0
    returns_missing_a_rate: list[str] = field(default_factory=list)
    without_figures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, outcome: str, path: Path, generated: GeneratedReturn) -> None:
        if outcome == NOT_OURS:
            self.not_ours.append(path)
            return
        roster, imputations, unmet = generated.roster, generated.figures.imputations, generated.targets.unmet
        self.written += outcome == WRITTEN
        self.unchanged += outcome == UNCHANGED
        self.records += len(roster.records["person"])
        self.imputed_values += len(imputations)
        self.returns_with_imputed_values += bool(imputations)
        if unmet and self.scale == 1:  # scaled counts are not meant to match
            self.returns_missing_a_rate.append(f"{roster.unit} {roster.year} ({', '.join(unmet)})")

    def add(self, other: GenerationSummary) -> None:
        self.written += other.written
        self.unchanged += other.unchanged
        self.not_ours += other.not_ours
        self.records += other.records
        self.imputed_values += other.imputed_values
        self.returns_with_imputed_values += other.returns_with_imputed_values
        self.returns_missing_a_rate += other.returns_missing_a_rate

    def files(self) -> str:
        not_ours = len(self.not_ours)
        return f"{self.written:,} written, {self.unchanged:,} unchanged, {not_ours:,} not ours (left alone)"

    def describe(self) -> str:
        lines = [
            f"Synthetic CSWW returns in {self.out_dir} (seed {self.seed}"
            + (f", scale {self.scale:g}: counts no longer match DfE)" if self.scale != 1 else ")"),
            f"  {self.files()}",
            f"  {self.records:,} worker records",
            f"  {self.imputed_values:,} imputed values in {self.returns_with_imputed_values:,} returns "
            "(suppressed in DfE's release; each sidecar says how)",
            f"  {len(self.returns_missing_a_rate):,} returns miss a published rate by more than its rounding",
            f"  {len(self.without_figures):,} council-years not written: DfE published no figure for them",
            f"  {self.seconds:.1f} s",
        ]
        lines += _listed("rate missed", self.returns_missing_a_rate, 10)
        lines += _listed("no DfE figure", self.without_figures, 10)
        lines += _listed("not ours, left alone", self.not_ours, 20)
        return "\n".join(lines)


def _listed(label: str, items: list, most: int) -> list[str]:
    lines = [f"  {label}: {item}" for item in items[:most]]
    if len(items) > most:
        lines.append(f"  ... and {len(items) - most} more ({label})")
    return lines


def _wanted_years(release: Release, years: list[int] | None) -> list[int]:
    missing = sorted(set(years or []) - set(release.years))
    if missing:
        raise GenerationRefused(
            f"No DfE figures for collection year(s) {', '.join(map(str, missing))} in "
            f"{paths.dfe_releases_dir()}: the releases there cover {release.years[0]}-{release.years[-1]}."
        )
    return sorted(set(years)) if years else list(release.years)


def _wanted_units(release: Release, la_codes: list[str] | None) -> set[str]:
    if not la_codes:
        return {unit for unit, _ in (*release.rows, *release.without_figures)}
    unknown = [code for code in la_codes if code.strip() not in release.unit_of_code]
    if unknown:
        raise GenerationRefused(
            f"LA code(s) {', '.join(unknown)} are not in the DfE release (use 3-digit old LA codes)."
        )
    return {release.unit_of_code[code.strip()] for code in la_codes}


def _write(
    out_dir: Path, generated: GeneratedReturn, people: PersonRegistry, seed: int, scale: float
) -> tuple[str, Path]:
    roster = generated.roster
    xml = render_return(roster, generated.targets, people, generated.software_code(scale))
    path = return_path(out_dir, roster.unit, roster.year)
    return place_return(path, xml, generated.sidecar(seed, scale, xml)), path


def generate_returns(
    out_dir: Path,
    seed: int,
    years: list[int] | None,
    la_codes: list[str] | None,
    scale: float = 1.0,
    progress: Callable[[str], None] | None = None,
) -> GenerationSummary:
    """Write one synthetic CSWW return per LA per collection year DfE published (or the ones asked for)."""
    started = time.perf_counter()
    report = progress or (lambda _message: None)
    if scale <= 0:
        raise GenerationRefused(f"--scale must be above 0, not {scale:g}.")
    release = load_release(paths.dfe_releases_dir())
    wanted_years, wanted_units = _wanted_years(release, years), _wanted_units(release, la_codes)
    figures = fill_suppressed(release)
    last_year = wanted_years[-1]
    targets = {key: calibrate(filled, key[1], scale) for key, filled in figures.items() if key[1] <= last_year}
    report(f"Calibrated {len(targets):,} LA-years to DfE's published figures")
    if scale == 1:  # scaled counts are not meant to add up to DfE's totals
        targets = fit_group_totals(release, figures, targets)
        moved = sum(bool(t.moved) for t in targets.values())
        report(f"Fitted DfE's regional and England totals: {moved:,} LA-years moved inside their rounding")
    summary = GenerationSummary(out_dir=out_dir, seed=seed, scale=scale)
    summary.without_figures = [
        f"{unit} {year}" for unit, year in release.without_figures if year in wanted_years and unit in wanted_units
    ]
    population = Population(seed, release, targets)
    for year, rosters in population.years(last_year):
        if year not in wanted_years:
            continue
        this_year = GenerationSummary(out_dir=out_dir, seed=seed, scale=scale)
        for unit in sorted(wanted_units & set(rosters)):
            key = (unit, year)
            generated = GeneratedReturn(rosters[unit], targets[key], figures[key], release.rows[key])
            outcome, path = _write(out_dir, generated, population.people, seed, scale)
            this_year.count(outcome, path, generated)
        report(f"{year}: {this_year.files()}; {this_year.records:,} worker records")
        summary.add(this_year)
    summary.seconds = time.perf_counter() - started
    return summary
