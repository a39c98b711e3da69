"""The integrity flags as pure functions of what a grade measured, on synthetic numbers: each
check quiet on honest figures, loud on the pattern it exists for, and one timer flag at most."""
from __future__ import annotations

import math

import pytest

from harness import integrity
from harness.schema import SandboxReport
from harness.timing import Speed, TimedCall, size_row

HONEST = [TimedCall(0.010, 0.011, 0.010, 0.011)] * 10


def row(size: int, sub_s: float, ref_s: float, *, sub_around: float = 1e-3, ref_around: float = 1e-3):
    """A timing row of identical calls: each side's reported time and the time the grader saw beyond it."""
    return size_row(size, [float(size)] * 5, [TimedCall(sub_s, sub_s + sub_around, ref_s, ref_s + ref_around)] * 5)


def sandbox(busy: float, idle: float) -> SandboxReport:
    return SandboxReport(isolation={}, output={"bytes": 0, "kept_bytes": 0, "cut_bytes": 0}, calls=10,
                         background_cpu_s=busy, between_calls_s=idle, processes_started=0, children=2)


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
