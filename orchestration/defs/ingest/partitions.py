"""Council returns are partitioned by LA and collection year.

The LA dimension is DfE's list of 3-digit old LA codes (the seed `las.csv`), which changes only
when local government is reorganised. Collection years are dynamic: a year becomes a partition
when its first return lands (the sensor and `workforce run` add it), so a new year needs no code.
"""

import dagster as dg

from orchestration.lib.sources import la_codes

COLLECTION_YEARS = dg.DynamicPartitionsDefinition(name="collection_year")

RETURN_PARTITIONS = dg.MultiPartitionsDefinition(
    {"old_la_code": dg.StaticPartitionsDefinition(la_codes.codes()), "year": COLLECTION_YEARS}
)


def partition_key(old_la_code: str, year: int) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({"old_la_code": old_la_code, "year": str(year)})


def split_key(key: str | dg.MultiPartitionKey) -> tuple[str, int]:
    dimensions = (
        key.keys_by_dimension
        if isinstance(key, dg.MultiPartitionKey)
        else dict(zip(("old_la_code", "year"), str(key).split("|"), strict=True))
    )
    return dimensions["old_la_code"], int(dimensions["year"])
