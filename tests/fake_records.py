"""Fabricated grade records for tests of sharding, merging, comparing and the leaderboard
page: the same shape the grader writes, with timings drawn from a seeded generator."""
from __future__ import annotations

import math

import numpy as np

from harness import stats
from harness.record import SCHEMA_VERSION


def timing_row(size: int, ref_s: float, speedup: float, *, reps: int = 30, noise: float = 0.02,
               rng: np.random.Generator | None = None) -> dict:
    """One timing row whose calls scatter log-normally (sigma `noise`) around the given times."""
    rng = rng or np.random.default_rng(size)
    ref = ref_s * np.exp(rng.normal(0.0, noise, reps))
    sub = ref_s / speedup * np.exp(rng.normal(0.0, noise, reps))
    return {"size": size, "measure": float(size), "reps": reps,
            "sub_median_s": stats.median(sub), "sub_spread": stats.spread(sub),
            "ref_median_s": stats.median(ref), "ref_spread": stats.spread(ref),
            "speedup": stats.median(ref) / stats.median(sub), "sub_overhead_s": 1e-5, "ref_overhead_s": 1e-5,
            "sub_times_s": sub.tolist(), "ref_times_s": ref.tolist()}


def record(author: str, problem: str, speedup: float | None = 1.0, *, verdict: str = "AC", exponent: float = 1.0,
           sizes: tuple[int, ...] = (10_000, 100_000, 1_000_000), seed: int = 0, noise: float = 0.02,
           reps: int = 30, timestamp: str = "2026-01-02T03:04:05+00:00", baseline: bool = False,
           rid: str | None = None) -> dict:
    """A record as `records.finish` would stamp it; `speedup` None means an untimed grade."""
    rng = np.random.default_rng(seed)
    timings = []
    if verdict == "AC" and speedup is not None:
        # reference time grows as size^1; the submission's as size^exponent, equal at the middle size
        mid = sizes[len(sizes) // 2]
        for n in sizes:
            ref_s = 1e-8 * n
            sp = speedup * (mid / n) ** (exponent - 1.0)
            timings.append(timing_row(n, ref_s, sp, reps=reps, noise=noise, rng=rng))
    score = stats.geomean([t["speedup"] for t in timings]) if timings else None
    slope = stats.loglog_slope([t["measure"] for t in timings], [t["sub_median_s"] for t in timings]) \
        if timings else math.nan
    return {"schema_version": SCHEMA_VERSION, "kind": "grade", "timestamp": timestamp, "author": author,
            "problem": problem, "file": f"solutions/{author}/{problem.replace('-', '_')}.py",
            "sha256": f"{seed:064x}", "verdict": verdict,
            "reason": "all cases passed" if verdict == "AC" else f"case 'x': {verdict}",
            "failure": None, "cases": [], "timings": timings, "score": score,
            "slope": None if math.isnan(slope) else slope, "reference_slope": 1.0 if timings else None,
            "expected_exponent": 1.0, "flags": [], "first_call_s": {}, "threads": 1,
            "plan": "full" if timings else "off", "baseline": baseline, "size_unit": "nnz",
            "id": rid or f"20260102t030405-{author}-{problem}-{seed:08x}-1"}
