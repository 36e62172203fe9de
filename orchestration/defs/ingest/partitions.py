"""LA-year partitions: the per-council, per-year status of returns in the Dagster UI.

Only `raw/csww_accepted_returns` is partitioned (see assets.py for why the load itself is not). The
LA dimension is DfE's list of 3-digit old LA codes (the seed `las.csv`), which changes only when
local government is reorganised. Collection years are dynamic: the returns load adds a year when it
first decides on a file for it, so a new year needs no code.
"""

import dagster as dg

from orchestration.lib.sources import la_codes

COLLECTION_YEARS = dg.DynamicPartitionsDefinition(name="collection_year")

RETURN_PARTITIONS = dg.MultiPartitionsDefinition(
    {"old_la_code": dg.StaticPartitionsDefinition(la_codes.codes()), "year": COLLECTION_YEARS}
)


def partition_key(old_la_code: str, year: int) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({"old_la_code": old_la_code, "year": str(year)})
