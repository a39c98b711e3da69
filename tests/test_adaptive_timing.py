"""Adaptive timing (harness/timing.py): per size, timed pairs until the speedup's 95% interval is
within the plan's precision, or its budget on the grader's clock runs out, never fewer than the
minimum; the intervals reach the record and the grade output. Driven by stand-in children and a
stand-in clock that advances by what the children report, so no test reads the wall clock."""
from __future__ import annotations

import math

import numpy as np
import pytest
from rich.console import Console

from harness import codec, render, stats, timing
from harness.schema import TimingRow
from harness.spec import Limits
from harness.timing import TimedCall, TimingPlan
from tests.test_judge import TOY, _double


class Clock:
    """The grader's clock, advanced only by the stand-in children's calls."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Timed:
    """A stand-in child whose call takes `seconds()` on the stand-in clock (and reports it)."""

    def __init__(self, clock: Clock, seconds, name: str):
        self.clock, self.seconds, self.name, self.limits = clock, seconds, name, Limits(mem_mb=512)
        self.calls = 0

    def call(self, args, **how):
        self.calls += 1
        s = float(self.seconds())
        self.clock.now += s
        return ({"status": "ok", "seconds": s, "aliased": False, "input_digest": codec.digest(args),
                 "violations": [], "processes": 0}, _double(*args), s)


def _pair(seconds_sub, seconds_ref):
    clock = Clock()
    return clock, Timed(clock, seconds_sub, "sub"), Timed(clock, seconds_ref, "ref")


PLAN = TimingPlan("adaptive", min_reps=6, max_reps=500, budget_s=1.0, max_sizes=1, replays=0, precision=0.03)


def test_tight_ratios_stop_at_the_minimum():
    clock, sub, ref = _pair(lambda: 0.001, lambda: 0.002)
    measured = timing.measure(TOY, PLAN, sub, ref, secret="", clock=clock)
    row = measured.rows[0]
    assert row.reps == PLAN.min_reps, "identical pairs: the interval has no width after the minimum"
    assert (row.speedup_lo, row.speedup, row.speedup_hi) == (pytest.approx(2.0),) * 3
    assert clock.now < PLAN.budget_s / 10, "stopped long before the budget"


def test_the_minimum_holds_even_when_tight():
    clock, sub, ref = _pair(lambda: 0.001, lambda: 0.001)
    plan = TimingPlan("adaptive", min_reps=9, max_reps=500, budget_s=1.0, max_sizes=1, replays=0, precision=0.03)
    assert timing.measure(TOY, plan, sub, ref, secret="", clock=clock).rows[0].reps == 10, \
        "the minimum, then on to a whole turn (two pairs, one of each order)"


def test_noisy_ratios_run_to_the_budget():
    noise = np.random.default_rng(1)
    clock, sub, ref = _pair(lambda: 0.01 * noise.lognormal(0, 0.8), lambda: 0.01 * noise.lognormal(0, 0.8))
    measured = timing.measure(TOY, PLAN, sub, ref, secret="", clock=clock)
    row = measured.rows[0]
    assert row.reps > PLAN.min_reps
    # the budget counts timed commands only (the warm-up pair before them does not)
    timed_s = sum(row.sub_times_s) + sum(row.ref_times_s)
    last_turn = sum(row.sub_times_s[-2:]) + sum(row.ref_times_s[-2:])
    assert row.reps % timing.TURN == 0, "a size stops on a whole turn"
    assert timed_s >= PLAN.budget_s and timed_s - last_turn < PLAN.budget_s, "the first whole turn past the budget"
    lo, hi = row.speedup_lo, row.speedup_hi
    assert stats.relative_half_width(lo, hi, row.speedup) > PLAN.precision, "still wider than the target"


def test_moderate_noise_stops_once_the_interval_is_tight():
    noise = np.random.default_rng(2)
    clock, sub, ref = _pair(lambda: 0.001 * noise.lognormal(0, 0.05), lambda: 0.001 * noise.lognormal(0, 0.05))
    plan = TimingPlan("adaptive", min_reps=5, max_reps=500, budget_s=100.0, max_sizes=1, replays=0, precision=0.03)
    row = timing.measure(TOY, plan, sub, ref, secret="", clock=clock).rows[0]
    assert plan.min_reps < row.reps < plan.max_reps, "more than the minimum, far less than the cap"
    check = timing.speedup_interval(row.sub_times_s, row.ref_times_s, replicates=timing.Precision.REPLICATES)
    assert stats.relative_half_width(*check, row.speedup) <= plan.precision
    shorter = timing.speedup_interval(row.sub_times_s[:plan.min_reps], row.ref_times_s[:plan.min_reps],
                                      replicates=timing.Precision.REPLICATES)
    assert stats.relative_half_width(*shorter, stats.median(row.ref_times_s[:plan.min_reps])
                                     / stats.median(row.sub_times_s[:plan.min_reps])) > plan.precision


class FirstIsSlower(Timed):
    """A stand-in whose call is 25% slower when it opens a pair (the other side then finds the
    input in cache): the two share a counter of calls, and pairs are two calls each."""

    def __init__(self, clock: Clock, seconds: float, name: str, calls: list[int]):
        super().__init__(clock, lambda: seconds * (1.25 if calls[0] % 2 == 0 else 1.0), name)
        self.shared = calls

    def call(self, args, **how):
        try:
            return super().call(args, **how)
        finally:
            self.shared[0] += 1


@pytest.mark.parametrize("true", [1.0, 2.0])
def test_what_going_first_does_cancels_within_a_turn(true):
    clock, calls = Clock(), [0]
    sub, ref = FirstIsSlower(clock, 0.001, "sub", calls), FirstIsSlower(clock, 0.001 * true, "ref", calls)
    row = timing.measure(TOY, PLAN, sub, ref, secret="", clock=clock).rows[0]
    per_pair = np.array(row.ref_times_s) / np.array(row.sub_times_s)
    assert set(np.round(per_pair / true, 6)) == {0.8, 1.25}, "one ratio per pair swings with the order"
    assert row.reps == PLAN.min_reps and row.reps % timing.TURN == 0
    assert (row.speedup_lo, row.speedup, row.speedup_hi) == (pytest.approx(true),) * 3


def test_without_a_precision_a_size_runs_to_its_budget():
    clock, sub, ref = _pair(lambda: 0.01, lambda: 0.01)
    plan = TimingPlan("fixed", min_reps=2, max_reps=500, budget_s=0.5, max_sizes=1, replays=0)
    row = timing.measure(TOY, plan, sub, ref, secret="", clock=clock).rows[0]
    assert row.reps == 26, "0.02 s a pair on the stand-in clock, 0.5 s of budget: 25 pairs, then the turn's end"


def test_the_plans_are_adaptive_and_quick_times_every_size():
    full, quick = timing.PLANS["full"], timing.PLANS["quick"]
    assert full.precision == 0.03 and quick.precision == 0.10
    assert quick.max_sizes is None and quick.budget_s < full.budget_s
    assert quick.min_reps >= 2 * timing.TURN and full.min_reps >= 2 * timing.TURN, "an interval needs two turns"
    assert quick.min_reps % timing.TURN == 0 and full.min_reps % timing.TURN == 0, "the minimum is whole turns"


def _row(sub_t, ref_t) -> TimingRow:
    calls = [TimedCall(s, s, r, r) for s, r in zip(sub_t, ref_t)]
    return timing.size_row(1000, [1000.0] * len(calls), calls)


def test_the_score_interval_combines_the_sizes():
    noise = np.random.default_rng(3)
    rows = [_row(0.001 * noise.lognormal(0, 0.1, 40), 0.002 * noise.lognormal(0, 0.1, 40)),
            _row(0.004 * noise.lognormal(0, 0.1, 40), 0.002 * noise.lognormal(0, 0.1, 40))]
    speed = timing.summarise(rows)
    lo, hi = speed.score_interval
    assert lo < speed.score < hi and 0.8 < speed.score < 1.25, "2x and 0.5x: a geometric mean near 1"
    each = [stats.relative_half_width(t.speedup_lo, t.speedup_hi, t.speedup) for t in rows]
    assert stats.relative_half_width(lo, hi, speed.score) < max(each), "two sizes' noise partly averages out"
    assert timing.summarise([_row([0.001], [0.002])]).score_interval is None, "one pair: no interval"


def test_the_interval_is_in_the_grade_output():
    record = {"timings": [_row([0.001] * 3, [0.002] * 3).to_dict()], "score": 1.02, "score_interval": [0.99, 1.05],
              "threads": 1, "plan": "full", "size_unit": "n", "slope": None, "expected_exponent": 1.0}
    console = Console(width=100, record=True)
    console.print(render.speed_panel(record))
    out = console.export_text()
    assert "score 1.02x [0.99, 1.05]" in out and "95% interval" in out
    for odd in ([math.nan, 1.0], "0.9-1.1", [1.0], [True, 2]):
        console = Console(width=100, record=True)
        console.print(render.speed_panel({**record, "score_interval": odd}))
        assert "[" not in console.export_text().split("score 1.02x")[1].split("\n")[0], f"ignored: {odd!r}"


def test_the_grade_loop_table_names_each_missed_target():
    from benchmarks.grade_loop import Grade, table

    full = [Grade(12.0, 1.00, (0.97, 1.03), "AC"), Grade(14.0, 1.02, (0.99, 1.06), "AC")]
    quick = [Grade(2.5, 1.05, (0.96, 1.15), "AC"), Grade(3.5, 1.20, (1.10, 1.30), "AC")]
    out = table({"spmv": {"full": full, "quick": quick}})
    rows = {line.split(" | ")[1]: line for line in out.splitlines() if line.startswith("| spmv")}
    assert rows["full"].endswith("| all hold |") and "| 13.0 | 14.0 |" in rows["full"]
    assert "wall ≤ 3 s" in rows["quick"] and "stable 0.85-1.18" in rows["quick"]
    assert "within ±10% of default" in rows["quick"] and "interval" not in rows["quick"].split("missed:")[1]
    assert out.endswith("1 of 2 problem/plan rows meet every target")


def test_a_phase_budget_leaves_out_sizes_that_would_outlast_it():
    """Slow code under a plan with a phase budget (quick): a larger size whose minimum, predicted
    from the last size, would end past the budget is not timed, and the output says so."""
    clock, sub, ref = _pair(lambda: 0.0, lambda: 0.0)
    sub.seconds = ref.seconds = lambda: 0.5 * TOY.size_of(sub.last) / 1000  # 0.5 s a call at n=1000, linear
    real_call = Timed.call

    def call(self, args, **how):
        sub.last = ref.last = args
        return real_call(self, args, **how)

    sub.call = call.__get__(sub)
    ref.call = call.__get__(ref)
    plan = TimingPlan("q", min_reps=3, max_reps=3, budget_s=0.0, replays=0, phase_budget_s=10.0)
    measured = timing.measure(TOY, plan, sub, ref, secret="", clock=clock)
    assert [t.size for t in measured.rows] == [1000] and measured.untimed == [4000], \
        "n=4000 needs (1 + 1 + 3) inputs at 4 s each: past the 10 s budget"
    roomy = TimingPlan("q", min_reps=3, max_reps=3, budget_s=0.0, replays=0, phase_budget_s=60.0)
    assert [t.size for t in timing.measure(TOY, roomy, sub, ref, secret="", clock=clock).rows] == [1000, 4000]
    record = {"timings": [t.to_dict() for t in measured.rows], "score": 1.0, "threads": 1, "plan": "quick",
              "size_unit": "n", "slope": None, "expected_exponent": 1.0, "timer_check": {"untimed": [4000]}}
    console = Console(width=120, record=True)
    console.print(render.speed_panel(record))
    assert "not timed: n=4,000" in console.export_text()


def test_an_answer_identical_to_the_references_skips_only_the_problems_check():
    from dataclasses import replace

    from tests.test_judge import FakeChild

    checked = []

    def check(args, expected, got):
        checked.append(1)
        return None if np.allclose(expected, got) else "values differ"

    toy = replace(TOY, check=check)
    plan = TimingPlan("t", min_reps=3, max_reps=3, budget_s=0.0, max_sizes=1, replays=0)
    timing.measure(toy, plan, FakeChild(_double), FakeChild(_double, name="ref"), secret="")
    assert checked == [], "bit for bit the reference's: the check is not run again"
    timing.measure(toy, plan, FakeChild(lambda x: _double(x) * (1 + 1e-15)), FakeChild(_double, name="ref"), secret="")
    assert len(checked) == 4, "a different answer (one warm-up, three pairs) goes through the check"
    with pytest.raises(timing.Verdict, match="modified its input"):  # the rules on the reply still apply
        timing._judge(toy, "bench", [(np.ones(2),)], [np.ones(2)], {"status": "raised", "type": "ValueError",
                      "mro": [], "message": "assignment destination is read-only"}, None, 512,
                      same=replace(toy, check=timing._same_as_reference))


def test_identical_means_bit_for_bit():
    a = np.array([1.0, np.nan, -0.0])
    assert timing.identical((a, np.arange(3)), (a.copy(), np.arange(3)))
    assert not timing.identical(a, np.array([1.0, np.nan, 0.0])), "-0.0 is not 0.0 bit for bit"
    assert not timing.identical(np.arange(3, dtype=np.int32), np.arange(3, dtype=np.int64))
    assert not timing.identical(np.zeros((2, 3)), np.zeros((3, 2)))
    assert not timing.identical((np.zeros(2),), [np.zeros(2)]), "a tuple is not a list"
    assert not timing.identical(np.array([{}], dtype=object), np.array([{}], dtype=object))
    assert timing.identical(2.5, 2.5) and not timing.identical(1, 1.0) and not timing.identical({}, {})
    quiet, loud = np.array([np.nan]), np.array([np.nan]).view(np.uint64) | np.uint64(1)
    assert not timing.identical(quiet, loud.view(np.float64)), "NaN payloads count"
    b = np.arange(1000, dtype=np.float64).reshape(10, 100)
    assert timing.identical(b, np.asfortranarray(b)), "the same values in another memory order"
    for where in (0, 511, 999):  # in the first, a middle and the last chunk of 64 bytes
        c = b.copy()
        c.flat[where] += 1
        assert timing.same_bytes(b, b.copy(), chunk=64) and not timing.same_bytes(b, c, chunk=64)
    assert timing.identical(np.zeros((0, 3)), np.zeros((0, 3)))


def _timed_s(row: TimingRow) -> float:
    return sum(row.sub_times_s) + sum(row.ref_times_s)


@pytest.mark.parametrize("wide", [True, False])
def test_the_last_size_runs_on_while_the_score_is_wide(wide):
    # two sizes, both noisy: the last may take up to twice its budget while the score's interval
    # is wider than the plan's score precision (with no score precision it stops at its budget)
    noise = np.random.default_rng(2)
    clock, sub, ref = _pair(lambda: 0.01 * noise.lognormal(0, 0.8), lambda: 0.01 * noise.lognormal(0, 0.8))
    plan = TimingPlan("adaptive", min_reps=5, max_reps=5000, budget_s=1.0, max_sizes=2, replays=0, precision=0.03,
                      score_precision=0.001 if wide else None, last_extra=2.0)
    first, last = timing.measure(TOY, plan, sub, ref, secret="", clock=clock).rows
    assert 1.0 <= _timed_s(first) < 1.2, "the first size keeps its budget"
    if wide:
        assert 2.0 <= _timed_s(last) < 2.2, "the last size ran to twice its budget: the score stayed wider"
    else:
        assert 1.0 <= _timed_s(last) < 1.2


def test_the_batch_setting_call_is_left_out_only_where_the_batch_is_surely_one():
    assert not timing.single(None, 10_000), "the first size has nothing to scale from"
    assert timing.single((1_000, 0.0, 0.004), 10_000), "40 ms a call, scaled: one call fills a batch"
    assert not timing.single((1_000, 0.0, 1e-4), 2_000), "0.2 ms a call: the batch is measured"
    assert not timing.single((1_000, 0.0, 2 * timing.TARGET_BATCH_S), 999)
    half = timing.TARGET_BATCH_S / 2
    assert timing.single((1_000, 0.0, 2 * half), 1_000, target_s=half), "a shorter batch is one call sooner"


def test_a_plan_sets_how_long_a_batch_lasts():
    assert timing.batch_size(1e-4, 1, 4096) == 50, "5 ms of 0.1 ms calls"
    assert timing.batch_size(1e-4, 1, 4096, timing.PLANS["quick"].batch_s) == 25, "quick: half as long"
    assert timing.PLANS["full"].batch_s == timing.TARGET_BATCH_S
