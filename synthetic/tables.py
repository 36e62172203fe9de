"""Column tables: a dict of equal-length numpy arrays, one row per worker-role.

Whole returns are built column by column, which keeps England x 8 years to a few seconds.
"""

from __future__ import annotations

import numpy as np

Table = dict[str, np.ndarray]


def size(table: Table) -> int:
    return len(next(iter(table.values()))) if table else 0


def take(table: Table, index: np.ndarray) -> Table:
    return {name: values[index] for name, values in table.items()}


def concat(tables: list[Table], columns: dict[str, type]) -> Table:
    """Rows of all tables in order; a column a table lacks is filled with zeros."""
    return {
        name: np.concatenate(
            [t[name] if name in t else np.zeros(size(t), dtype=dtype) for t in tables] or [np.zeros(0, dtype)]
        ).astype(dtype, copy=False)
        for name, dtype in columns.items()
    }


def empty(columns: dict[str, type]) -> Table:
    return {name: np.zeros(0, dtype=dtype) for name, dtype in columns.items()}


def filled(count: int, **values: object) -> Table:
    """A table of `count` rows, each named column either an array or one value repeated."""
    return {name: np.broadcast_to(np.asarray(value), (count,)).copy() for name, value in values.items()}
