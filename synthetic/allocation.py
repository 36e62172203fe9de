"""Exact integer splitting: a total into bounded parts, and a point inside a small set of linear bounds.

Everything is in whole units (millionths of an FTE, hundredths of a day, cases), so the parts of a
total add up to it exactly and a file re-aggregates to its target to the last written digit.
"""

from __future__ import annotations

import math

import numpy as np

Inequality = tuple[tuple[int, ...], int]
"""coefficients . x <= bound"""


def allocate(total: int, weights: np.ndarray, lower: np.ndarray | int, upper: np.ndarray | int) -> np.ndarray:
    """Whole parts in [lower, upper] adding up to `total`, as near proportional to weights as bounds allow.

    Proportional shares are clipped to the bounds and what clipping freed or took is shared again
    among the unclipped parts; the fractional remainder goes to the largest fractions.
    """
    count = len(weights)
    low = np.broadcast_to(np.asarray(lower, dtype=np.int64), (count,))
    high = np.broadcast_to(np.asarray(upper, dtype=np.int64), (count,))
    if not low.sum() <= total <= high.sum():
        raise ValueError(f"cannot split {total} into {count} parts within their bounds")
    if count == 0:
        return np.zeros(0, dtype=np.int64)
    weight = np.maximum(np.asarray(weights, dtype=float), 1e-12)
    share = _clipped_shares(float(total), weight, low.astype(float), high.astype(float))
    parts = np.clip(np.floor(share).astype(np.int64), low, high)
    shortfall = total - int(parts.sum())
    if shortfall:
        room = np.flatnonzero(parts < high)
        order = room[np.argsort(-(share[room] - parts[room]), kind="stable")]
        parts[order[:shortfall]] += 1
    return parts


def _clipped_shares(total: float, weight: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    fixed = np.zeros(len(weight), dtype=bool)
    share = np.zeros(len(weight))
    for _ in range(len(weight) + 1):
        free = ~fixed
        remaining = total - share[fixed].sum()
        share[free] = remaining * weight[free] / weight[free].sum() if free.any() else 0.0
        below, above = free & (share < low), free & (share > high)
        if not (below.any() or above.any()):
            break
        # Fix the side that is further out; fixing both at once could overshoot the other way.
        side = below if (low - share)[below].sum() >= (share - high)[above].sum() else above
        share[side] = np.where(below[side], low[side], high[side])
        fixed |= side
    return share


def _eliminate(rows: list[Inequality], var: int) -> list[Inequality]:
    """Fourier-Motzkin: the constraints on the other variables implied by rows, without `var`."""
    kept = [row for row in rows if row[0][var] == 0]
    above = [row for row in rows if row[0][var] > 0]
    below = [row for row in rows if row[0][var] < 0]
    for up_coefs, up_bound in above:
        for down_coefs, down_bound in below:
            alpha, beta = up_coefs[var], -down_coefs[var]
            coefs = tuple(beta * u + alpha * d for u, d in zip(up_coefs, down_coefs, strict=True))
            kept.append((coefs, beta * up_bound + alpha * down_bound))
    return kept


def _range(rows: list[Inequality], var: int) -> tuple[float, float]:
    low, high = -math.inf, math.inf
    for coefs, bound in rows:
        if coefs[var] > 0:
            high = min(high, bound // coefs[var])
        elif coefs[var] < 0:
            low = max(low, -(bound // -coefs[var]))
        elif bound < 0:
            return math.inf, -math.inf
    return low, high


def feasible_point(rows: list[Inequality], preferred: list[int]) -> list[int] | None:
    """Whole x satisfying every row, each variable in turn as near its preferred value as the rest allow."""
    values: list[int] = []
    for var in range(len(preferred)):
        reduced = rows
        for later in range(len(preferred) - 1, var, -1):
            reduced = _eliminate(reduced, later)
        low, high = _range(reduced, var)
        if low > high:
            return None
        value = int(min(max(preferred[var], low), high))
        values.append(value)
        rows = [(coefs, bound - coefs[var] * value) for coefs, bound in rows]
        rows = [(tuple(0 if i == var else c for i, c in enumerate(coefs)), bound) for coefs, bound in rows]
    return values
