"""Small statistics for timings: robust centre and spread, speedups, scaling slope."""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def median(xs: Sequence[float]) -> float:
    return float(np.median(np.asarray(xs, dtype=np.float64)))


def spread(xs: Sequence[float]) -> float:
    """Interquartile range relative to the median: 0.05 means the middle half lies within 5%."""
    a = np.asarray(xs, dtype=np.float64)
    m = float(np.median(a))
    if a.size < 2 or m <= 0:
        return 0.0
    q1, q3 = np.percentile(a, [25, 75])
    return float((q3 - q1) / m)


def geomean(xs: Sequence[float]) -> float:
    a = np.asarray([x for x in xs if x > 0], dtype=np.float64)
    return float(np.exp(np.mean(np.log(a)))) if a.size else math.nan


def loglog_slope(sizes: Sequence[float], times: Sequence[float]) -> float:
    """Least-squares exponent p in time ~ size**p (nan when fewer than two distinct sizes)."""
    s = np.asarray(sizes, dtype=np.float64)
    t = np.asarray(times, dtype=np.float64)
    keep = (s > 0) & (t > 0)
    if np.unique(s[keep]).size < 2:
        return math.nan
    return float(np.polyfit(np.log(s[keep]), np.log(t[keep]), 1)[0])
