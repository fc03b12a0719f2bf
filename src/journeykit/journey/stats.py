"""Small statistics for the map: proportions, their differences, and means from sums.

Intervals of a difference of two proportions use Newcombe's hybrid score method (built from
two Wilson intervals), which behaves at small counts and near 0 or 1 where the normal
approximation does not.
"""

from __future__ import annotations

import math

Z95 = 1.959963984540054


def wilson(k: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion ``k / n``.

    >>> [round(x, 4) for x in wilson(5, 10)]
    [0.2366, 0.7634]
    """
    if n <= 0:
        return (0.0, 1.0)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def newcombe(k1: float, n1: float, k0: float, n0: float, z: float = Z95) -> tuple[float, float]:
    """Interval of ``k1/n1 - k0/n0`` (Newcombe's hybrid score method, his method 10).

    >>> [round(x, 4) for x in newcombe(56, 70, 48, 80)]
    [0.0524, 0.3339]
    """
    if n1 <= 0 or n0 <= 0:
        return (-1.0, 1.0)
    p1, p0 = k1 / n1, k0 / n0
    l1, u1 = wilson(k1, n1, z)
    l0, u0 = wilson(k0, n0, z)
    d = p1 - p0
    low = d - math.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
    return (low, high)


def z_two(k1: float, n1: float, k0: float, n0: float) -> float:
    """Pooled z statistic of ``k1/n1 - k0/n0`` (positive when the first is larger).

    >>> round(z_two(30, 50, 20, 50), 3)
    2.0
    """
    if n1 <= 0 or n0 <= 0:
        return 0.0
    p = (k1 + k0) / (n1 + n0)
    se = math.sqrt(p * (1 - p) * (1 / n1 + 1 / n0))
    return 0.0 if se == 0 else (k1 / n1 - k0 / n0) / se


def welch(m1: float, v1: float, n1: float, m0: float, v0: float, n0: float) -> float:
    """Welch's t of ``m1 - m0`` from means, variances and sizes.

    >>> round(welch(1.0, 1.0, 100, 0.5, 1.0, 100), 3)
    3.536
    """
    if n1 < 2 or n0 < 2:
        return 0.0
    se = math.sqrt(v1 / n1 + v0 / n0)
    return 0.0 if se == 0 else (m1 - m0) / se


def mean_var(total: float, squares: float, n: float) -> tuple[float, float]:
    """Mean and sample variance from a sum and a sum of squares.

    >>> mean_var(6.0, 14.0, 3)
    (2.0, 1.0)
    """
    if n <= 0:
        return (0.0, 0.0)
    mean = total / n
    var = (squares - n * mean * mean) / (n - 1) if n > 1 else 0.0
    return (mean, max(var, 0.0))
