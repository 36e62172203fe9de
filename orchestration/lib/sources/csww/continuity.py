"""Year-on-year continuity queries: a return against the council's previous one, as DfE's
continuity report does.

`compare_with_previous` takes the staged rows of one or more returns (the parser's batches with
the loader's provenance columns: an Arrow table, or the Parquet files the loader stages) and a
DuckDB connection to the working warehouse. Each return is compared with the same council's
return for the year before: the one staged beside it when the loader is loading both, else the
one in `raw_csww.workers`. Every finding is a query (rules.yml, level `continuity`): a return is
never refused for differing from last year. When there is nothing to compare with, the result
says so in a note, not an issue.

Leavers and new workers are LA-employed ones, as in DfE's leaver and starter counts: agency
assignments come and go between census dates. Workers are matched by `swe_pseudonym`, the keyed
pseudonym of SWENo: the same person has the same pseudonym in every return loaded under the
warehouse's key, and the SWE number itself is never needed. Headcount and FTE are counted in the
return's own terms (LA-employed workers with FTE30 above 0 and no RoleEndDate), which for a
return that passed the rules is who is in post.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from orchestration.lib.sources.csww import spec
from orchestration.lib.sources.csww.issues import Issue, IssueLog
from orchestration.lib.sources.csww.rules import RuleId, rule

COLUMNS = (
    "old_la_code",
    "collection_year",
    "record_number",
    "source_line",
    "swe_pseudonym",
    "agency_worker",
    "fte30",
    "birth_month",
    "role_start_date",
    "role_end_date",
)
"""The staged columns the comparisons read."""

Key = tuple[str, int]
"""(old_la_code, collection_year) of one return."""

_IN_POST = "not agency_worker and fte30 > 0 and role_end_date is null"


@dataclass
class Continuity:
    """What the comparison of one return with the previous year's found."""

    issues: list[Issue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def compare_with_previous(
    con: duckdb.DuckDBPyConnection,
    staged: pa.Table | Path | str | Sequence[Path | str],
    *,
    files: Mapping[Key, str],
    people_comparable: bool = True,
    people_note: str = "",
) -> dict[Key, Continuity]:
    """Continuity queries for every return in `staged`, by (old_la_code, collection_year).

    `files` names each return's file for its issues. `people_comparable` is False when the
    pseudonyms in `staged` were not made with the warehouse's key (then only headcount and FTE are
    compared, and `people_note` says why the rest was skipped).
    """
    current = _as_table(con, staged)
    con.register("continuity_current", current)
    try:
        previous = _previous_rows(con)
        con.register("continuity_previous", previous)
        try:
            return _compare(con, files, people_comparable, people_note)
        finally:
            con.unregister("continuity_previous")
    finally:
        con.unregister("continuity_current")


def _as_table(con: duckdb.DuckDBPyConnection, staged: pa.Table | Path | str | Sequence[Path | str]) -> pa.Table:
    if isinstance(staged, pa.Table):
        return staged.select(list(COLUMNS))
    paths = [str(staged)] if isinstance(staged, Path | str) else [str(p) for p in staged]
    return con.execute(f"select {', '.join(COLUMNS)} from read_parquet(?)", [paths]).to_arrow_table()


def _previous_rows(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """Last year's rows for each return: staged beside it if it is, else as loaded in the warehouse."""
    columns = ", ".join(f"w.{c}" for c in COLUMNS)
    staged = f"""
        select {columns} from continuity_current w
        join (select distinct old_la_code, collection_year from continuity_current) k
            on w.old_la_code = k.old_la_code and w.collection_year = k.collection_year - 1
    """
    has_warehouse = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'raw_csww' and table_name = 'workers'"
    ).fetchone()[0]
    if not has_warehouse:
        return con.execute(staged).to_arrow_table()
    loaded = f"""
        select {columns} from raw_csww.workers w
        join (select distinct old_la_code, collection_year from continuity_current) k
            on w.old_la_code = k.old_la_code and w.collection_year = k.collection_year - 1
        where not exists (
            select 1 from continuity_current c
            where c.old_la_code = w.old_la_code and c.collection_year = w.collection_year
        )
    """
    return con.execute(f"{staged} union all {loaded}").to_arrow_table()


def _compare(
    con: duckdb.DuckDBPyConnection, files: Mapping[Key, str], people_comparable: bool, people_note: str
) -> dict[Key, Continuity]:
    keys = con.execute("select distinct old_la_code, collection_year from continuity_current").fetchall()
    compared = {
        (la, int(year) + 1): n
        for la, year, n in con.execute(
            "select old_la_code, collection_year, count(*) from continuity_previous group by 1, 2"
        ).fetchall()
    }
    logs: dict[Key, IssueLog] = {}
    results: dict[Key, Continuity] = {}
    for la, year in keys:
        key = (la, int(year))
        logs[key] = IssueLog(files.get(key, ""))
        logs[key].year = key[1]
        results[key] = Continuity()
        if key not in compared:
            results[key].notes.append(
                f"Continuity: no {key[1] - 1} return for LA {la} is loaded, so the year-on-year queries were not run."
            )
            continue
        results[key].notes.append(
            f"Continuity: compared with the {key[1] - 1} return for LA {la} ({compared[key]:,} worker records)."
        )
        if not people_comparable:
            results[key].notes.append(
                f"Continuity: worker by worker comparisons (birth month, leavers, new workers) were skipped: "
                f"{people_note}."
            )
    _totals(con, logs)
    if people_comparable:
        _birth_months(con, logs)
        _leavers_still_in_post(con, logs)
        _new_workers_started_earlier(con, logs)
    for key, log in logs.items():
        results[key].issues = log.issues()
    return results


def _change(rule_id: RuleId, now: float, before: float) -> tuple[bool, float | None]:
    """(beyond the rule's threshold?, change in percent, None when last year had none)."""
    params = rule(rule_id).params
    difference = now - before
    percent = None if before == 0 else difference / before * 100
    beyond = abs(difference) >= params["min_change"] and (
        percent is None or abs(percent) > params["max_change_percent"]
    )
    return beyond, percent


def _totals(con: duckdb.DuckDBPyConnection, logs: dict[Key, IssueLog]) -> None:
    rows = con.execute(
        f"""
        with now as (
            select old_la_code, collection_year,
                count(distinct swe_pseudonym) filter (where {_IN_POST}) as headcount,
                coalesce(sum(fte30) filter (where {_IN_POST}), 0) as fte
            from continuity_current group by 1, 2
        ),
        before as (
            select old_la_code, collection_year + 1 as collection_year,
                count(distinct swe_pseudonym) filter (where {_IN_POST}) as headcount,
                coalesce(sum(fte30) filter (where {_IN_POST}), 0) as fte
            from continuity_previous group by 1, 2
        )
        select old_la_code, collection_year, now.headcount, before.headcount, now.fte, before.fte
        from now join before using (old_la_code, collection_year)
        """
    ).fetchall()
    for la, year, headcount, headcount_before, fte, fte_before in rows:
        log = logs[la, int(year)]
        beyond, percent = _change(RuleId.HEADCOUNT_CHANGE, headcount, headcount_before)
        if beyond:
            log.add(
                RuleId.HEADCOUNT_CHANGE,
                f"{headcount:,} LA-employed workers are in post on 30 September {year} (FTE30 above 0, no "
                f"RoleEndDate), against {headcount_before:,} in last year's return{_percent(percent)}. Check "
                "that every worker in post is in the return and none is listed twice; if the change is real, "
                "confirm it.",
                value=f"{headcount_before:,} → {headcount:,}",
            )
        beyond, percent = _change(RuleId.FTE_CHANGE, fte, fte_before)
        if beyond:
            log.add(
                RuleId.FTE_CHANGE,
                f"The LA-employed FTE in post on 30 September {year} (sum of FTE30) is {fte:,.1f}, against "
                f"{fte_before:,.1f} in last year's return{_percent(percent)}. Check the FTE30 of every worker "
                "in post, and that none is missing or listed twice; if the change is real, confirm it.",
                value=f"{fte_before:,.1f} → {fte:,.1f}",
            )


def _percent(percent: float | None) -> str:
    return "" if percent is None else f" ({percent:+.0f}%)"


def _birth_months(con: duckdb.DuckDBPyConnection, logs: dict[Key, IssueLog]) -> None:
    rows = con.execute(
        """
        select distinct c.old_la_code, c.collection_year, c.record_number, c.source_line
        from continuity_current c
        join continuity_previous p
            on p.old_la_code = c.old_la_code and p.collection_year = c.collection_year - 1
            and p.swe_pseudonym = c.swe_pseudonym
        where c.birth_month <> p.birth_month
        order by 1, 2, 3
        """
    ).fetchall()
    for la, year, record, line in rows:
        logs[la, int(year)].add(
            RuleId.BIRTH_MONTH_CHANGED,
            "This worker (the same SWENo) was born in another month according to last year's return. A "
            "birth date does not change: check PersonBirthDate, and that the SWENo is this worker's.",
            line=line,
            record=record,
            element="PersonBirthDate",
        )


def _leavers_still_in_post(con: duckdb.DuckDBPyConnection, logs: dict[Key, IssueLog]) -> None:
    rows = con.execute(
        """
        select c.old_la_code, c.collection_year, c.record_number, c.source_line,
            c.role_start_date, min(p.role_end_date)
        from continuity_current c
        join continuity_previous p
            on p.old_la_code = c.old_la_code and p.collection_year = c.collection_year - 1
            and p.swe_pseudonym = c.swe_pseudonym and p.role_start_date = c.role_start_date
        where c.role_end_date is null and p.role_end_date is not null and not p.agency_worker
        group by all
        order by 1, 2, 3
        """
    ).fetchall()
    for la, year, record, line, start, ended in rows:
        logs[la, int(year)].add(
            RuleId.LEAVER_STILL_IN_POST,
            f"Last year's return had this worker leaving this role (same SWENo and RoleStartDate {start}) on "
            f"{ended}, yet here they hold it with no RoleEndDate. If they left and came back, give the role "
            "the date they started again; otherwise last year's RoleEndDate was wrong: tell the data engineer.",
            line=line,
            record=record,
            element="RoleStartDate",
            value=str(start),
        )


def _new_workers_started_earlier(con: duckdb.DuckDBPyConnection, logs: dict[Key, IssueLog]) -> None:
    rows = con.execute(
        """
        with compared as (
            select distinct old_la_code, collection_year + 1 as collection_year from continuity_previous
        ),
        known as (
            select distinct old_la_code, collection_year + 1 as collection_year, swe_pseudonym
            from continuity_previous
        )
        select c.old_la_code, c.collection_year, c.record_number, c.source_line, c.role_start_date
        from continuity_current c
        semi join compared using (old_la_code, collection_year)
        anti join known using (old_la_code, collection_year, swe_pseudonym)
        where not c.agency_worker and c.role_start_date <= make_date(c.collection_year - 1, 9, 30)
        order by 1, 2, 3
        """
    ).fetchall()
    for la, year, record, line, start in rows:
        last_census = spec.reference_date(int(year) - 1)
        logs[la, int(year)].add(
            RuleId.NEW_WORKER_STARTED_EARLIER,
            f"This role started on {start}, before last year's census date ({last_census:%-d %B %Y}), yet "
            "this worker's SWENo is not in last year's return. Check RoleStartDate (a new post has the "
            "date it began) and SWENo; if last year's return missed them, tell the data engineer.",
            line=line,
            record=record,
            element="RoleStartDate",
            value=str(start),
        )
