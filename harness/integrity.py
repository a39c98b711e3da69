"""Integrity flags: what in a grade's measurements suggests a score not to be trusted as it is.

A flag never changes the verdict or the score; it marks the record for review (the leaderboard
shows them). Each check is a pure function of what was measured (timing rows, timed calls,
the sandbox report) and returns its flags as strings whose first word names the check:

  scaling    time grows faster with size than the problem's exponent allows
  review     a speedup implausibly far above the reference
  timer      time the grader saw around the submission's calls that its child did not report,
             per size (medians) or over the whole phase (every call), or a child that claims
             more time than the grader saw
  cores      CPU of the submission's child (every thread and process, measured by the grader
             from outside) beyond what its declared threads allow over its timed commands
  threads    CPU used between calls: work left running in the background
  grader     the grader itself failed (harness.judge.Outcome)
"""
from __future__ import annotations

import math
from collections.abc import Sequence

from harness.schema import SandboxReport, TimerCheck, TimingRow
from harness.timing import Speed, TimedCall

SLOPE_TOLERANCE = 0.3  # slope above expected + this is flagged as worse scaling
IMPLAUSIBLE_SPEEDUP = 20.0  # a score above this is flagged for review
CPU_SLACK, CPU_FLOOR_S = 1.1, 0.002  # CPU beyond threads x wall x 1.1 + 2 ms (per size) is flagged
# CPU of other threads a one-thread grade tolerates. An honest child's is 0.0 (the references,
# prange ones at one thread included); at 0.2 the speedrun's trains_in_background example, whose
# grade lasts half a second on a fast host, used 0.20-0.28 s and went unflagged now and then
OTHER_THREADS_FLOOR_S = 0.05
IDLE_CPU_SHARE = 0.05  # of the time between commands, an honest child's wake-ups use far less
CLOCK_FLOOR_S, CLOCK_SHARE = 0.001, 0.1  # the child's clock may miss the round trip, not more
WINDOW_REPS = 5  # the tight clock and window checks need this many timed commands (quick plans: the loose ones)
AROUND_FLOOR_S, AROUND_SHARE = 0.001, 1.0  # twice the reference's window (a loaded machine is noisy), 1 ms at least


def speed_flags(rows: Sequence[TimingRow], calls: Sequence[TimedCall], speed: Speed, *,
                expected_exponent: float, size_unit: str) -> list[str]:
    """The flags of a timed AC grade, in the order the record lists them. The whole-phase timer
    check runs only when no size was flagged already: one timer flag says enough."""
    flags = scaling(speed.slope, speed.reference_slope, expected_exponent, size_unit)
    flags += implausible_speed(speed.score)
    return flags + (unrankable(rows, size_unit) or hidden_time(rows, size_unit) or timer_phase(calls)
                    or clock(rows, size_unit) or around_calls(rows, size_unit))


def unrankable(rows: Sequence[TimingRow], size_unit: str) -> list[str]:
    """A size with a zero or non-finite time has no speedup: the record is kept, flagged, never ranked."""
    for t in rows:
        if t.speedup is None or not math.isfinite(t.speedup):
            return [f"timer: a zero or non-finite time at {size_unit}={t.size:,} (submission "
                    f"{t.sub_median_s!r} s, reference {t.ref_median_s!r} s): no score, not ranked"]
    return []


def clock(rows: Sequence[TimingRow], size_unit: str) -> list[str]:
    """The child's own clock against the grader's, per command, beside the same gap for the
    reference's child (its clock is honest: what it leaves is the round trip and this machine's
    noise). The grader's clock is what is ranked, so a child that reports much less has tampered
    with its clock, or kept working after its calls returned. The tolerance is a fixed floor and a
    tenth of the call, not the harness's work."""
    for t in rows:
        if t.sub_reported_s is None or not t.batch or t.reps < WINDOW_REPS:
            continue
        gap = (t.sub_overhead_s - t.ref_overhead_s) * t.batch
        if gap > CLOCK_FLOOR_S + CLOCK_SHARE * t.sub_median_s * t.batch:
            return [f"timer: the submission's child reported {t.sub_reported_s * 1e3:.3f} ms per call at "
                    f"{size_unit}={t.size:,} where the grader saw {t.sub_median_s * 1e3:.3f} ms: its clock "
                    "was tampered with, or it kept working after its calls returned"]
    return []


def around_calls(rows: Sequence[TimingRow], size_unit: str) -> list[str]:
    """Time the grader saw around the timed call, before 'go' (mapping the inputs) and after the
    reply line (reading the result), beyond what the reference's child took for the same inputs:
    work done where the grader's clock does not run. Each window on its own, against the
    reference's same window (they do the same work, in the same harness code)."""
    for t in rows:
        if not t.batch or t.reps < WINDOW_REPS:
            continue
        for window, sub, ref in (("before 'go'", t.sub_prepare_s, t.ref_prepare_s),
                                 ("after the reply", t.sub_post_s, t.ref_post_s)):
            if sub is None or ref is None:
                continue
            extra = sub - ref
            if extra > max(AROUND_FLOOR_S, AROUND_SHARE * ref, 0.1 * t.ref_median_s * t.batch):
                return [f"timer: {extra * 1e3:.2f} ms per command at {size_unit}={t.size:,} spent {window} beyond "
                        f"the reference's {ref * 1e3:.2f} ms: work outside the timed call"]
    return []


def cores(per_size: Sequence[Sequence[TimedCall]], sizes: Sequence[int], threads: int, size_unit: str) -> list[str]:
    """CPU of the submission's child over its timed commands (every thread and process, read by the
    grader from the child's cgroup or /proc). Between commands, while its main thread waits, an
    honest child uses next to nothing: more is work in the background (`threads`). Over whole
    commands it is judged two ways against what `threads` threads allow: the wall time x threads
    (plus one thread for mapping inputs and sending results), and `threads` x what its main
    thread used, which holds on a loaded machine too, where each thread gets a share of a core."""
    for calls, n in zip(per_size, sizes):
        seen = [c.sub_seen for c in calls if c.sub_seen is not None and c.sub_seen.cpu_s is not None
                and c.sub_seen.idle_cpu_s is not None]
        if not seen:
            continue
        flags = []
        idle, idle_cpu = sum(s.idle_s for s in seen), sum(s.idle_cpu_s for s in seen)
        if idle_cpu > IDLE_CPU_SHARE * idle + CPU_FLOOR_S:
            flags.append(f"threads: the submission's child used {idle_cpu:.3f} s of CPU between its timed calls at "
                         f"{size_unit}={n:,} ({idle:.3f} s), work left running in the background")
        busy = sum(s.cpu_s for s in seen)  # the commands alone (a read while the child runs may lag a tick)
        used = busy + idle_cpu
        allowed = sum(s.prepare_s + threads * s.wall_s + s.post_s for s in seen)
        mains = [s.main_s for s in seen]
        main = sum(mains) if all(m is not None for m in mains) else None
        if busy > CPU_SLACK * allowed + CPU_FLOOR_S:
            flags.append(f"cores: the submission's child used {busy:.3f} s of CPU over its timed calls at "
                         f"{size_unit}={n:,} where {threads} thread(s) allow {allowed:.3f} s: more cores than declared")
        elif main is not None and used > CPU_SLACK * threads * main + CPU_FLOOR_S + (idle_cpu if flags else 0.0):
            flags.append(f"cores: the submission's child used {used:.3f} s of CPU over its timed calls at "
                         f"{size_unit}={n:,}, its main thread {main:.3f} s: more than {threads} thread(s) at work")
        if flags:
            return flags
    return []


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


def timer_totals(calls: Sequence[TimedCall], phase_wall_s: float,
                 replayed: Sequence[str] | None = None, untimed: Sequence[int] | None = None) -> TimerCheck | None:
    """The whole timing phase on the grader's clock beside what the children reported
    (None when nothing was timed)."""
    if not calls:
        return None
    sub_s, sub_w, ref_s, ref_w = (sum(c[i] * getattr(c, "batch", 1) for c in calls) for i in range(4))
    return TimerCheck(calls=len(calls), phase_wall_s=round(phase_wall_s, 4),
                      sub_reported_s=round(sub_s, 6), sub_seen_s=round(sub_w, 6),
                      ref_reported_s=round(ref_s, 6), ref_seen_s=round(ref_w, 6),
                      unexplained_s=round((sub_w - sub_s) - (ref_w - ref_s), 6),
                      replayed=list(replayed) if replayed else None, untimed=list(untimed) if untimed else None)


def timer_phase(calls: Sequence[TimedCall]) -> list[str]:
    """The per-size check looks at medians; this one adds up every timed call, so a clock
    that lies only now and then is caught too, and a child that claims more time than the
    grader saw (a forged reply) is named."""
    totals = timer_totals(calls, 0.0)
    if totals is None:
        return []
    if any(c[0] > c[1] + 1e-3 or c[0] <= 0 for c in calls):
        return ["timer: the submission's child reported a time the grader's clock contradicts"]
    ref_overhead = totals.ref_seen_s - totals.ref_reported_s
    bar = max(0.05, 0.5 * totals.ref_reported_s, 0.5 * ref_overhead, 0.5 * totals.sub_reported_s)
    if totals.unexplained_s > bar:
        return [f"timer: {totals.unexplained_s:.3f} s of the timing phase spent in the "
                f"submission's calls outside its timed region"]
    return []


def background_threads(sandbox: SandboxReport | None, threads: int = 1) -> list[str]:
    """CPU the submission's children used while waiting for the next call: an honest child
    idles at about 1% (wake-ups); more is work left running in the background. With one
    declared thread, CPU of any thread but the main one is background work too: a thread that
    holds the GIL runs while the main thread waits for it, inside the calls' windows, where the
    between-calls view cannot see it."""
    if sandbox is None:
        return []
    busy, idle = sandbox.background_cpu_s, sandbox.between_calls_s
    if busy > 0.05 and busy > 0.1 * idle:
        return [f"threads: the submission used {busy:.2f} s of CPU between calls "
                f"({idle:.2f} s), work left running in the background"]
    other = sandbox.other_threads_cpu_s
    if threads == 1 and other > OTHER_THREADS_FLOOR_S:
        return [f"threads: threads other than the submission's main thread used {other:.2f} s of CPU "
                f"in a one-thread grade, work running beside the calls"]
    return []
