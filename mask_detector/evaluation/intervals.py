"""How far a rate measured on few faces could be from the rate on more faces of the same kind.

A goal such as "without_mask recall >= 92%" is checked on 32 faces in one data set: one face
is 3 points. The Wilson score interval (95%) says which rates the measured count is compatible
with; unlike the normal approximation it stays inside 0-100% and is usable at 0 or n errors.
It assumes the faces are independent draws, which faces of one photo are not quite, so the
interval is, if anything, too narrow.
"""

from __future__ import annotations

import math

#: The normal quantile of a two-sided 95% interval.
Z95 = 1.959963984540054


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of successes / n; None when there are no faces."""
    if n <= 0:
        return None
    if not 0 <= successes <= n:
        raise ValueError(f"{successes} successes of {n}")
    p = successes / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    # Rounding can leave the bound a hair past the count's own rate at 0 or n successes.
    return max(0.0, min(centre - half, p)), min(1.0, max(centre + half, p))


def interval_text(successes: int, n: int, digits: int = 1) -> str:
    """17 of 20 -> "64.0-94.8%"; "n/a" without faces. The rate itself is printed elsewhere."""
    bounds = wilson(successes, n)
    if bounds is None:
        return "n/a"
    lo, hi = bounds
    return f"{lo * 100:.{digits}f}-{hi * 100:.{digits}f}%"
