"""How unequally a cost is spread over languages: the Gini coefficient and the Lorenz curve."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import InputError


def _check(values: Sequence[float]) -> np.ndarray:
    x = np.asarray(values, dtype=np.float64).ravel()
    if x.size == 0:
        raise InputError("gini: no values")
    if not np.all(np.isfinite(x)):
        raise InputError("gini: values must be finite (drop masked languages first)")
    if np.any(x < 0):
        raise InputError("gini: values must be non-negative")
    return x


def gini(values: Sequence[float]) -> float:
    """The Gini coefficient: sum_i sum_j |c_i - c_j| / (2 n^2 mean(c)).

    Computed from the sorted values in O(n log n): G = sum_i (2i - n - 1) x_(i) / (n^2 mean), i = 1..n.

    Args:
        values: non-negative costs (e.g. premiums per language).

    Returns:
        0 when all are equal, (n-1)/n when one value holds all.
    """
    x = np.sort(_check(values))
    n, total = x.size, x.sum()
    if total == 0:
        return 0.0
    i = np.arange(1, n + 1)
    return float(((2 * i - n - 1) * x).sum() / (n * total))


def lorenz(values: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """The Lorenz curve of costs, from (0, 0) to (1, 1).

    Args:
        values: non-negative costs.

    Returns:
        (share of languages, share of total cost held by the cheapest ones), n + 1 points each.
    """
    x = np.sort(_check(values))
    cum = np.concatenate([[0.0], np.cumsum(x)])
    share = cum / cum[-1] if cum[-1] > 0 else np.linspace(0, 1, x.size + 1)
    return np.linspace(0.0, 1.0, x.size + 1), share
