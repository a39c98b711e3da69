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


# -- bootstrap intervals ------------------------------------------------------------------
BOOTSTRAP = 4000  # replicates: the 2.5% and 97.5% percentiles settle to about 1% of the interval
LEVEL = 0.95


def bootstrap_medians(xs: Sequence[float], rng: np.random.Generator, replicates: int = BOOTSTRAP) -> np.ndarray:
    """`replicates` medians of samples of `xs` drawn with replacement (same size as `xs`)."""
    a = np.asarray(xs, dtype=np.float64)
    if a.size == 0:
        return np.full(replicates, math.nan)
    return np.median(a[_resamples(a.size, rng, replicates)], axis=1)


def _resamples(n: int, rng: np.random.Generator, replicates: int) -> np.ndarray:
    """`replicates` rows of `n` indices drawn with replacement: one bootstrap sample per row."""
    return rng.integers(0, n, (replicates, n))


def paired_ratios(num: Sequence[float], den: Sequence[float]) -> np.ndarray:
    """num[i] / den[i]: one ratio per round, the two sides of a round timed back to back."""
    a, b = np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"paired rounds must match: {a.shape} vs {b.shape}")
    with np.errstate(divide="ignore", invalid="ignore"):
        return a / b


def turn_ratios(num: Sequence[float], den: Sequence[float], period: int = 1) -> np.ndarray:
    """The per-round ratios num[i] / den[i], combined over each turn of `period` rounds: their
    geometric mean. Rounds that rotate the order of the sides (A B, B A, ...) put each side in
    each place once per turn, so whatever the place does cancels: the second side can find the
    input the first one just read still in cache (20% faster at spmv's 3·10⁶ size, two children on
    a Xeon with a 480 MiB L3), and one ratio per round would then swing between two values by
    who went first. An incomplete last turn is left out; with fewer rounds than a turn, the
    rounds are the values (period 1)."""
    r = paired_ratios(num, den)
    turns = r.size // period if period > 1 else 0
    if not turns:
        return r
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.exp(np.log(r[: turns * period]).reshape(turns, period).mean(axis=1))


def bootstrap_paired_ratios(num: Sequence[float], den: Sequence[float], rng: np.random.Generator,
                            replicates: int = BOOTSTRAP, period: int = 1) -> np.ndarray:
    """`replicates` medians of the per-round ratios num[i] / den[i] over resampled rounds (turns
    of `period` rounds, turn_ratios, resampled whole). The ratio is taken within a round first,
    so what a round shares (a slow moment hits both sides) cancels; a ratio of the two sides'
    medians keeps it and, over a few rounds, swings widely."""
    r = turn_ratios(num, den, period)
    if r.size == 0:
        return np.full(replicates, math.nan)
    return np.median(r[_resamples(r.size, rng, replicates)], axis=1)


def relative_half_width(lo: float, hi: float, centre: float) -> float:
    """How far an interval reaches from its centre, relative to it: 0.03 means within ±3%
    (inf when the centre is not a positive finite number or the interval is unknown)."""
    if not (math.isfinite(centre) and centre > 0 and math.isfinite(lo) and math.isfinite(hi)):
        return math.inf
    return max(centre - lo, hi - centre) / centre


def percentile_interval(replicates: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """The central `level` interval of bootstrap replicates (the percentile method)."""
    tail = 100.0 * (1.0 - level) / 2.0
    lo, hi = np.percentile(np.asarray(replicates, dtype=np.float64), [tail, 100.0 - tail])
    return float(lo), float(hi)


def median_interval(xs: Sequence[float], *, level: float = LEVEL, replicates: int = BOOTSTRAP,
                    rng: np.random.Generator | None = None, seed: int = 0) -> tuple[float, float]:
    """Bootstrap `level` interval of the median of `xs` (nan, nan with fewer than two values)."""
    a = np.asarray(xs, dtype=np.float64)
    if a.size < 2:
        return (math.nan, math.nan)
    return percentile_interval(bootstrap_medians(a, rng or np.random.default_rng(seed), replicates), level)
