"""Integrity flags: what in a grade's measurements suggests a score not to be trusted as it is.

A flag never changes the verdict or the score; it marks the record for review (the leaderboard
shows them). Each check is a pure function of what was measured (timing rows, timed calls,
the sandbox report) and returns its flags as strings whose first word names the check:

  scaling    time grows faster with size than the problem's exponent allows
  review     a speedup implausibly far above the reference
  timer      time the grader saw around the submission's calls that its child did not report,
             per size (medians) or over the whole phase (every call), or a child that claims
             more time than the grader saw
  threads    CPU used between calls: work left running in the background
  grader     the grader itself failed (harness.judge.Outcome)
"""
from __future__ import annotations

from collections.abc import Sequence

from harness.schema import SandboxReport, TimerCheck, TimingRow
from harness.timing import Speed, TimedCall

SLOPE_TOLERANCE = 0.3  # slope above expected + this is flagged as worse scaling
IMPLAUSIBLE_SPEEDUP = 20.0  # a score above this is flagged for review


def speed_flags(rows: Sequence[TimingRow], calls: Sequence[TimedCall], speed: Speed, *,
                expected_exponent: float, size_unit: str) -> list[str]:
    """The flags of a timed AC grade, in the order the record lists them. The whole-phase timer
    check runs only when no size was flagged already: one timer flag says enough."""
    flags = scaling(speed.slope, speed.reference_slope, expected_exponent, size_unit)
    flags += implausible_speed(speed.score)
    return flags + (hidden_time(rows, size_unit) or timer_phase(calls))


def scaling(slope: float | None, reference_slope: float | None, expected_exponent: float,
            size_unit: str) -> list[str]:
    """Judged against the worse of the spec's exponent and the reference's measured one, so
    cache effects at large sizes do not flag an honest linear solution."""
    bar = max(expected_exponent, reference_slope or 0.0) + SLOPE_TOLERANCE
    if slope is not None and slope > bar:
        return [f"scaling: time grows as {size_unit}^{slope:.2f}, expected ^{expected_exponent:g}"]
    return []


def implausible_speed(score: float | None) -> list[str]:
    """Far faster than a good reference is more often a trick than a breakthrough."""
    if score is not None and score > IMPLAUSIBLE_SPEEDUP:
        return [f"review: score {score:.1f}x is implausibly far above the reference"]
    return []


def hidden_time(rows: Sequence[TimingRow], size_unit: str) -> list[str]:
    """Work done outside the child's timer (patched clocks, lazy results) shows up as
    overhead the grader sees but the reference does not have; the first size that shows it."""
    for t in rows:
        extra = t.sub_overhead_s - t.ref_overhead_s
        # half the submission's own time too: a slow call leaves the machine's caches and
        # scheduler in a state that costs the bookkeeping after it a few ms; a real lie is larger
        if extra > max(0.005, 0.5 * t.ref_median_s, 0.5 * t.ref_overhead_s, 0.5 * t.sub_median_s):
            return [f"timer: {extra * 1e3:.1f} ms per call at {size_unit}={t.size:,} spent outside the timed call"]
    return []


def timer_totals(calls: Sequence[TimedCall], phase_wall_s: float) -> TimerCheck | None:
    """The whole timing phase on the grader's clock beside what the children reported
    (None when nothing was timed)."""
    if not calls:
        return None
    sub_s, sub_w, ref_s, ref_w = (sum(c[i] for c in calls) for i in range(4))
    return TimerCheck(calls=len(calls), phase_wall_s=round(phase_wall_s, 4),
                      sub_reported_s=round(sub_s, 6), sub_seen_s=round(sub_w, 6),
                      ref_reported_s=round(ref_s, 6), ref_seen_s=round(ref_w, 6),
                      unexplained_s=round((sub_w - sub_s) - (ref_w - ref_s), 6))


def timer_phase(calls: Sequence[TimedCall]) -> list[str]:
    """The per-size check looks at medians; this one adds up every timed call, so a clock
    that lies only now and then is caught too, and a child that claims more time than the
    grader saw (a forged reply) is named."""
    totals = timer_totals(calls, 0.0)
    if totals is None:
        return []
    if any(s > w + 1e-3 or s <= 0 for s, w, _, _ in calls):
        return ["timer: the submission's child reported a time the grader's clock contradicts"]
    ref_overhead = totals.ref_seen_s - totals.ref_reported_s
    bar = max(0.05, 0.5 * totals.ref_reported_s, 0.5 * ref_overhead, 0.5 * totals.sub_reported_s)
    if totals.unexplained_s > bar:
        return [f"timer: {totals.unexplained_s:.3f} s of the timing phase spent in the "
                f"submission's calls outside its timed region"]
    return []


def background_threads(sandbox: SandboxReport | None) -> list[str]:
    """CPU the submission's children used while waiting for the next call: an honest child
    idles at about 1% (wake-ups); more is work left running in the background."""
    if sandbox is None:
        return []
    busy, idle = sandbox.background_cpu_s, sandbox.between_calls_s
    if busy > 0.05 and busy > 0.1 * idle:
        return [f"threads: the submission used {busy:.2f} s of CPU between calls "
                f"({idle:.2f} s), work left running in the background"]
    return []
