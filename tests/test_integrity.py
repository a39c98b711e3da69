"""The integrity flags as pure functions of what a grade measured, on synthetic numbers: each
check quiet on honest figures, loud on the pattern it exists for, and one timer flag at most."""
from __future__ import annotations

import math

import pytest

from harness import integrity, timing
from harness.schema import SandboxReport
from harness.sandbox import Seen
from harness.timing import Speed, TimedCall, size_row

HONEST = [TimedCall(0.010, 0.011, 0.010, 0.011)] * 10


def row(size: int, sub_s: float, ref_s: float, *, sub_around: float = 1e-3, ref_around: float = 1e-3):
    """A timing row of identical calls: each side's reported time and the time the grader saw beyond it."""
    return size_row(size, [float(size)] * 5, [TimedCall(sub_s, sub_s + sub_around, ref_s, ref_s + ref_around)] * 5)


def sandbox(busy: float, idle: float, other: float = 0.0) -> SandboxReport:
    return SandboxReport(isolation={}, output={"bytes": 0, "kept_bytes": 0, "cut_bytes": 0}, calls=10,
                         background_cpu_s=busy, between_calls_s=idle, processes_started=0, children=2,
                         other_threads_cpu_s=other)


def test_scaling_is_judged_against_the_worse_of_spec_and_reference():
    assert integrity.scaling(1.25, 1.0, 1.0, "nnz") == []  # within the 0.3 tolerance
    flags = integrity.scaling(1.6, 1.0, 1.0, "nnz")
    assert flags == ["scaling: time grows as nnz^1.60, expected ^1"]
    assert integrity.scaling(1.6, 1.4, 1.0, "nnz") == [], "the reference scales as badly here: caches, not the code"
    assert integrity.scaling(None, None, 1.0, "nnz") == [], "one size: no slope, no flag"


def test_implausible_speed():
    assert integrity.implausible_speed(19.9) == [] and integrity.implausible_speed(None) == []
    assert integrity.implausible_speed(math.nan) == []
    assert integrity.implausible_speed(25.0) == ["review: score 25.0x is implausibly far above the reference"]


def test_hidden_time_per_size():
    assert integrity.hidden_time([row(1000, 0.010, 0.010), row(10_000, 0.1, 0.1)], "nnz") == []
    # 20 ms a call spent around a 10 ms call that the reference does not have: a patched clock
    lying = [row(1000, 0.010, 0.010), row(10_000, 0.010, 0.010, sub_around=0.021)]
    assert integrity.hidden_time(lying, "nnz") == ["timer: 20.0 ms per call at nnz=10,000 spent outside the timed call"]
    # a slow call (half of it is the allowance) leaves more bookkeeping after it: not a lie
    assert integrity.hidden_time([row(1000, 0.100, 0.010, sub_around=0.040)], "nnz") == []
    twice = [row(1000, 0.010, 0.010, sub_around=0.021), row(2000, 0.010, 0.010, sub_around=0.021)]
    assert len(integrity.hidden_time(twice, "nnz")) == 1, "the first size that shows it is enough"


def test_timer_totals_add_up_every_call():
    assert integrity.timer_totals([], 1.0) is None
    totals = integrity.timer_totals([TimedCall(0.010, 0.013, 0.005, 0.007)] * 4, 0.123456)
    assert totals.calls == 4 and totals.phase_wall_s == 0.1235
    assert (totals.sub_reported_s, totals.sub_seen_s) == (0.04, 0.052)
    assert (totals.ref_reported_s, totals.ref_seen_s) == (0.02, 0.028)
    assert totals.unexplained_s == pytest.approx(0.004)


def test_timer_phase_names_a_child_whose_clock_disagrees():
    assert integrity.timer_phase([]) == [] and integrity.timer_phase(HONEST) == []
    zero = HONEST + [TimedCall(0.0, 0.011, 0.010, 0.011)]
    assert "contradicts" in integrity.timer_phase(zero)[0], "a call that took no time at all"


def test_speed_flags_give_one_timer_flag_at_most():
    lying_rows = [row(1000, 0.010, 0.010, sub_around=0.021)]
    lying_calls = [TimedCall(0.001, 0.033, 0.005, 0.008)] * 20  # the whole phase would flag too
    assert integrity.timer_phase(lying_calls)
    flags = integrity.speed_flags(lying_rows, lying_calls, Speed(score=30.0, slope=2.0, reference_slope=1.0),
                                  expected_exponent=1.0, size_unit="nnz")
    assert [f.split(":")[0] for f in flags] == ["scaling", "review", "timer"]
    assert "per call at nnz=1,000" in flags[2], "the per-size flag, not the whole-phase one"
    only_phase = integrity.speed_flags([row(1000, 0.010, 0.010)], lying_calls, Speed(score=1.0), expected_exponent=1.0,
                                       size_unit="nnz")
    assert len(only_phase) == 1 and "of the timing phase" in only_phase[0]
    assert integrity.speed_flags([row(1000, 0.010, 0.010)], HONEST, Speed(score=1.0, slope=1.0, reference_slope=1.0),
                                 expected_exponent=1.0, size_unit="nnz") == []


def test_background_threads():
    assert integrity.background_threads(None) == [], "no child started, nothing to judge"
    assert integrity.background_threads(sandbox(0.02, 10.0)) == [], "wake-ups"
    assert integrity.background_threads(sandbox(0.5, 10.0)) == [], "5% of the idle time: under the bar"
    assert integrity.background_threads(sandbox(0.4, 1.8)) == [
        "threads: the submission used 0.40 s of CPU between calls (1.80 s), work left running in the background"]


def test_other_threads_in_a_one_thread_grade_are_background_work():
    """A GIL-bound thread runs while the main thread waits for the GIL, inside the calls' windows:
    the between-calls view misses it, the CPU of threads other than the main one does not."""
    hidden = sandbox(0.02, 10.0, other=1.5)
    assert integrity.background_threads(hidden, 1) == [
        "threads: threads other than the submission's main thread used 1.50 s of CPU in a one-thread grade, "
        "work running beside the calls"]
    assert integrity.background_threads(hidden, 2) == [], "two declared threads: the timing's cores check judges"
    assert integrity.background_threads(sandbox(0.02, 10.0, other=0.04), 1) == [], "under the floor"
    assert integrity.background_threads(sandbox(0.02, 10.0, other=0.2), 1), "a short grade's background thread"


# -- issue 12: the grader's own view of each command (harness.sandbox.Seen) ----------------------
def _seen(wall: float, cpu: float, main: float, *, prepare: float = 1e-3, post: float = 1e-3,
          idle: float = 0.01, idle_cpu: float = 0.0) -> Seen:
    return Seen(prepare, wall, post, cpu, idle, idle_cpu, main)


def _call(sub: Seen, ref: Seen | None = None, batch: int = 1) -> TimedCall:
    ref = ref or _seen(sub.wall_s, sub.wall_s, sub.wall_s)
    return TimedCall(sub.wall_s / batch, sub.wall_s / batch, ref.wall_s / batch, ref.wall_s / batch, batch, sub, ref)


def test_cores_are_judged_on_cpu_the_grader_reads():
    honest = [_call(_seen(0.010, 0.011, 0.011))] * 10
    assert integrity.cores([honest], [1000], 1, "nnz") == []
    two = [_call(_seen(0.010, 0.021, 0.011))] * 10  # a second thread as busy as the main one
    assert integrity.cores([two], [1000], 1, "nnz")[0].startswith("cores:")
    assert integrity.cores([two], [1000], 2, "nnz") == [], "two declared threads allow it"
    # a loaded machine: each thread got a third of a core, so CPU is below the wall, but twice the main thread's
    loaded = [_call(_seen(0.030, 0.020, 0.010))] * 10
    flags = integrity.cores([loaded], [1000], 1, "nnz")
    assert flags and "its main thread" in flags[0]
    background = [_call(_seen(0.010, 0.011, 0.011, idle=0.05, idle_cpu=0.03))] * 10
    assert integrity.cores([background], [1000], 1, "nnz")[0].startswith("threads:")
    unmeasured = [_call(Seen(1e-3, 0.01, 1e-3, None, 0.01, None, None))] * 10
    assert integrity.cores([unmeasured], [1000], 1, "nnz") == [], "no accounting: nothing to judge"


def _rows(sub: Seen, ref: Seen, reps: int = 10, batch: int = 4, sub_s: float | None = None):
    calls = [TimedCall((sub_s if sub_s is not None else sub.wall_s) / batch, sub.wall_s / batch, ref.wall_s / batch,
                       ref.wall_s / batch, batch, sub, ref)] * reps
    return [size_row(1000, [1000.0] * reps, calls)]


def test_windows_around_the_call_are_judged_against_the_reference():
    ref = _seen(0.010, 0.010, 0.010, prepare=2e-3, post=1e-3)
    assert integrity.around_calls(_rows(_seen(0.010, 0.01, 0.01, prepare=3e-3, post=1.5e-3), ref), "nnz") == []
    hidden = integrity.around_calls(_rows(_seen(0.002, 0.01, 0.01, prepare=2e-3, post=9e-3), ref), "nnz")
    assert hidden and "after the reply" in hidden[0]
    assert integrity.around_calls(_rows(_seen(0.002, 0.01, 0.01, post=9e-3), ref, reps=3), "nnz") == [], \
        "a quick plan has too few commands for a tight judgement"


def test_a_child_clock_that_misses_the_call_is_flagged_not_the_round_trip():
    ref = _seen(0.010, 0.010, 0.010)
    assert integrity.clock(_rows(_seen(0.010, 0.01, 0.01), ref, sub_s=0.0098), "nnz") == []
    slowed = integrity.clock(_rows(_seen(0.010, 0.01, 0.01), ref, sub_s=0.010 / 8), "nnz")
    assert slowed and "tampered" in slowed[0]


def test_a_zero_time_is_flagged_and_never_ranked():
    ref = _seen(0.010, 0.010, 0.010)
    zero = Seen(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    rows = [size_row(1000, [1000.0], [TimedCall(0.0, 0.0, 0.01, 0.01, 1, zero, ref)])]
    assert rows[0].speedup is None
    speed = timing.summarise(rows)
    assert speed.score is None
    flags = integrity.speed_flags(rows, [], speed, expected_exponent=1.0, size_unit="nnz")
    assert flags and "not ranked" in flags[0]


def test_what_is_ranked_is_bounded_by_the_graders_clock():
    ref = _seen(0.010, 0.010, 0.010)
    # the reference's child saw 0.2 ms of round trip; an honest child is ranked on its own clock,
    # a child claiming 1 us on the grader's clock less that round trip
    calls = [TimedCall(0.0098, 0.0100, 0.0098, 0.0100, 1, _seen(0.01, 0.01, 0.01), ref)] * 5
    assert timing.ranked(calls)[0] == [0.0098] * 5
    lying = [TimedCall(1e-6, 0.0100, 0.0098, 0.0100, 1, _seen(0.01, 0.01, 0.01), ref)] * 5
    assert timing.ranked(lying)[0] == [pytest.approx(0.0098)] * 5
