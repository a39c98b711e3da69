"""The timing phase: the submission against the problem's timing reference, call for call.

Per bench size, both children get the same fresh input (its own seed per repetition), in
alternating order so neither side always runs on a warmer machine; repetition -1 is a warm-up
(JIT compilation, caches) and never timed. Every submission reply is judged against the
reference's answer, so the code timed is code that is right. The phase produces data only:
typed rows per size and the raw timed calls; the integrity flags (harness/integrity.py) and
the score are computed from them.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from harness import pairs, stats
from harness.judge import Call, Expected, Progress, call, digest, judge_reply, no_progress
from harness.schema import TimingRow
from harness.yardstick import gemm_key
from harness.sandbox import Child
from harness.seeds import case_seed
from harness.spec import Problem


@dataclass(frozen=True)
class TimingPlan:
    """How hard to time: repetitions per size and a time budget per size and side."""

    name: str
    min_reps: int
    max_reps: int
    budget_s: float
    max_sizes: int | None = None  # None: every bench size

    def sizes(self, problem: Problem) -> list[int]:
        sizes = list(problem.bench_sizes)
        return sizes[: self.max_sizes] if self.max_sizes else sizes


PLANS = {
    "full": TimingPlan("full", min_reps=5, max_reps=200, budget_s=1.0),
    "quick": TimingPlan("quick", min_reps=2, max_reps=3, budget_s=0.0, max_sizes=2),
    "off": TimingPlan("off", min_reps=0, max_reps=0, budget_s=0.0, max_sizes=0),
}


class TimedCall(NamedTuple):
    """One timed pair: what each child reported for its call, and what the grader's clock saw
    around it (the reply's round trip included)."""

    sub_s: float
    sub_wall_s: float
    ref_s: float
    ref_wall_s: float


@dataclass
class Measured:
    """What the timing phase measured, filled in as it runs: a phase stopped by a verdict keeps
    the sizes it finished and every timed call."""

    rows: list[TimingRow] = field(default_factory=list)
    calls: list[TimedCall] = field(default_factory=list)
    wall_s: float = 0.0  # the grader's clock from the phase's start to the last finished size
    first_reference_s: float | None = None  # the reference's warm-up call, JIT compilation included


@dataclass(frozen=True)
class Speed:
    """The summary of a timed grade: geometric mean of the speedups and the log-log slopes."""

    score: float | None = None
    slope: float | None = None
    reference_slope: float | None = None


def measure(problem: Problem, plan: TimingPlan, sub: Child, ref: Child, *, secret: str,
            yardstick: dict | None = None, progress: Progress | None = None,
            into: Measured | None = None) -> Measured:
    """Time `sub` against `ref` over the plan's sizes; raise the Verdict of a wrong timed answer.
    `into` collects what was measured, so a stopped phase still has its rows and calls."""
    out = Measured() if into is None else into
    progress = progress or no_progress
    sizes = plan.sizes(problem)
    phase_start = time.perf_counter()
    for si, n in enumerate(sizes):
        progress(f"timing {problem.size_unit}={n:,}", si, len(sizes))
        calls: list[TimedCall] = []
        measures: list[float] = []
        name = f"bench {problem.size_unit}={n:,}"
        rep = -1  # rep -1 is the warm-up (JIT compilation, caches), never timed
        while True:
            args = problem.bench_args(np.random.default_rng(case_seed(problem.slug, f"bench/{n}/{rep}", secret)), n)
            before = digest(args)
            order = pairs.rotation(rep, [("sub", sub), ("ref", ref)])  # rep -1 (warm-up): ref first
            replies: dict[str, Call] = {role: call(child, args, name) for role, child in order}
            (r_reply, r_got, r_wall), (s_reply, s_got, s_wall) = replies["ref"], replies["sub"]
            if r_reply["status"] != "ok":
                raise RuntimeError(f"the timing reference failed on {name}: {r_reply}")
            judge_reply(problem, name, args, Expected(r_got), s_reply, s_got, digest=before, mem_mb=sub.limits.mem_mb)
            if rep == -1:
                if out.first_reference_s is None:
                    out.first_reference_s = r_reply["seconds"]
            else:
                timed = TimedCall(s_reply["seconds"], s_wall, r_reply["seconds"], r_wall)
                calls.append(timed)
                out.calls.append(timed)
                measures.append(float(problem.size_of(args)))
            rep += 1
            spent = max(sum(c.sub_s for c in calls), sum(c.ref_s for c in calls))
            if rep >= plan.max_reps or (rep >= plan.min_reps and spent >= plan.budget_s):
                break
        out.rows.append(size_row(n, measures, calls, yardstick=yardstick,
                                 bytes_moved=problem.bytes_of(args) if problem.bytes_of else None,
                                 flops=problem.flops_of(args) if problem.flops_of else None,
                                 gemm_dtype=problem.gemm_dtype))
        out.wall_s = time.perf_counter() - phase_start
    progress("timing", len(sizes), len(sizes))
    return out


def size_row(size: int, measures: list[float], calls: list[TimedCall], *, yardstick: dict | None = None,
             bytes_moved: float | None = None, flops: float | None = None,
             gemm_dtype: str | None = None) -> TimingRow:
    """One size's row from its timed calls: medians, spreads, speedup, the time the grader saw
    around the calls that the children did not report, and the rates of the problem's models
    (`bytes_moved`, `flops`: of one input, the last one timed; `gemm_dtype`: the precision whose
    measured GEMM rate the GFLOP/s are a share of)."""
    sub_t, ref_t = [c.sub_s for c in calls], [c.ref_s for c in calls]
    sub_med, ref_med = stats.median(sub_t), stats.median(ref_t)
    gbytes = bandwidth = gflops = gemm = None
    if bytes_moved is not None:
        gbytes = bytes_moved / sub_med / 1e9
        if yardstick and "triad_gbytes_per_s" in yardstick:
            bandwidth = 100.0 * gbytes / yardstick["triad_gbytes_per_s"]
    if flops is not None:
        gflops = flops / sub_med / 1e9
        rate = (yardstick or {}).get(gemm_key(gemm_dtype)) if gemm_dtype else None
        if rate:
            gemm = 100.0 * gflops / rate
    return TimingRow(size=size, measure=stats.median(measures), reps=len(calls),
                     sub_median_s=sub_med, sub_spread=stats.spread(sub_t),
                     ref_median_s=ref_med, ref_spread=stats.spread(ref_t),
                     speedup=ref_med / sub_med if sub_med > 0 else math.inf,
                     sub_overhead_s=stats.median([c.sub_wall_s - c.sub_s for c in calls]),
                     ref_overhead_s=stats.median([c.ref_wall_s - c.ref_s for c in calls]),
                     # every timed call, in order (pairs share an input): `sparsebench compare` tests these
                     sub_times_s=sub_t, ref_times_s=ref_t,
                     gbytes_per_s=gbytes, bandwidth_pct=bandwidth, gflops=gflops, gemm_pct=gemm)


def summarise(rows: list[TimingRow]) -> Speed:
    """Score and scaling of a timed grade (slopes None when fewer than two distinct sizes)."""
    if not rows:
        return Speed()
    measures = [t.measure for t in rows]
    slope = stats.loglog_slope(measures, [t.sub_median_s for t in rows])
    ref_slope = stats.loglog_slope(measures, [t.ref_median_s for t in rows])
    return Speed(score=stats.geomean([t.speedup for t in rows]),
                 slope=None if math.isnan(slope) else slope,
                 reference_slope=None if math.isnan(ref_slope) else ref_slope)
