"""The warehouse's jobs by name, with what each does: the one list the jobs and the CLI read.

Kept apart from jobs.py so that `workforce --help` can offer the names without importing Dagster.
"""

FULL_REBUILD = "full_rebuild"
REPUBLISH_RETURNS = "republish_returns"
REFRESH_PUBLISHED_SOURCES = "refresh_published_sources"

JOBS = {
    FULL_REBUILD: "Load every return and published file, rebuild the marts, check and publish.",
    REPUBLISH_RETURNS: "Load the council returns, rebuild what depends on them and republish.",
    REFRESH_PUBLISHED_SOURCES: "Load new DfE releases or Ofsted files, rebuild what depends on them and republish.",
}
