"""The example queries in the README's "Querying the benchmarks" run, exactly as written, against
freshly published tables, from a folder laid out as the README describes (data/published/…)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import duckdb
import pytest

from orchestration.lib import paths
from orchestration.lib.publish import publication


def readme_queries() -> list[str]:
    readme = (paths.PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Querying the benchmarks", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sql\n(.*?)```", section, flags=re.S)


def test_the_readme_has_at_least_three_queries() -> None:
    assert len(readme_queries()) >= 3


def test_every_readme_query_runs_on_the_published_tables(
    after_a_first_run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(after_a_first_run)  # the README's relative paths start at the project folder: data/published/…
    assert Path("data/published").resolve() == paths.published_dir().resolve()
    con = duckdb.connect(os.path.join("data", "published", publication.PUBLISHED_DB_NAME), read_only=True)
    results = [con.execute(query).fetchall() for query in readme_queries()]
    turnover, agency, by_judgement, regions = results
    assert [row[0] for row in turnover] == list(range(2017, 2025))
    assert [row[0] for row in agency] == sorted(row[0] for row in agency) and len(agency) == 10
    assert {row[0] for row in by_judgement} == {"Outstanding", "Good", "Requires improvement to be good", "Inadequate"}
    assert sum(row[1] for row in by_judgement) > 140
    assert len(regions) == 12 and "England" in {row[0] for row in regions}
