"""Judging replies and the correctness and timing phases, driven by a fake child (no process):
the verdict each kind of reply gets, and that a phase stopped by a verdict keeps what it saw."""
from __future__ import annotations

import numpy as np
import pytest

from harness import codec, timing
from harness.judge import (MAX_RESTARTS, NOT_RUN, Correctness, Expected, Outcome, Verdict, check_cases,
                           check_violations, correctness_cases, judge_reply)
from harness.sandbox import ChildDied
from harness.spec import Case, Limits, Problem, Rejected
from harness.timing import Measured, TimingPlan


def _check(args, expected, got):
    return None if np.array_equal(expected, got) else "values differ\nexpected 2x the input"


def _double(x):
    if x.size and not np.isfinite(x).all():
        raise ValueError("not finite")
    return 2 * x


TOY = Problem(slug="toy-double", title="toy", difficulty="easy", entry="double",
              edge_cases=[Case("three", lambda rng: (np.arange(3.0),)), Case("empty", lambda rng: (np.zeros(0),)),
                          Case("nan", lambda rng: (np.array([np.nan]),))],
              make_random=lambda rng, n: (rng.standard_normal(n),), random_sizes=[10, 100], bench_sizes=[1000, 4000],
              size_of=lambda args: args[0].size, size_unit="n", check=_check, oracle="numpy",
              timing_reference="numpy", allowed_errors=(ValueError,))


class FakeChild:
    """Stands in for harness.sandbox.Child: answers with `fn`, reporting `seconds` per call."""

    def __init__(self, fn, seconds: float = 0.001, name: str = "sub"):
        self.fn, self.seconds, self.name, self.limits = fn, seconds, name, Limits(mem_mb=512)
        self.log: list[str] = []

    def call(self, args, **how):
        self.log.append(self.name)
        try:
            got = self.fn(*args)
        except Exception as exc:  # noqa: BLE001 - reported like the real child does
            mro = [c.__name__ for c in type(exc).__mro__]
            return {"status": "raised", "type": type(exc).__name__, "mro": mro, "message": str(exc),
                    "traceback": "tb"}, None, self.seconds
        return ({"status": "ok", "seconds": self.seconds, "aliased": False, "input_digest": codec.digest(args),
                 "violations": [], "processes": 0}, got, self.seconds * 1.1)


def ok(**extra) -> dict:
    return {"status": "ok", "seconds": 0.001, "aliased": False, "input_digest": "d", "violations": [], **extra}


def verdict_of(reply: dict, got=None, expected: Expected | None = None) -> Verdict | None:
    args = (np.arange(3.0),)
    try:
        judge_reply(TOY, "c", args, expected or Expected(2 * args[0]), reply, got, digest="d", mem_mb=512)
    except Verdict as v:
        return v
    return None


def test_each_kind_of_reply_gets_its_verdict():
    assert verdict_of(ok(), got=np.arange(3.0) * 2) is None
    wa = verdict_of(ok(), got=np.zeros(3))
    assert (wa.verdict, wa.reason, wa.detail["diff"]) == ("WA", "case 'c': values differ", "expected 2x the input")
    assert "shares memory" in verdict_of(ok(aliased=True), got=np.arange(3.0) * 2).reason
    assert "modified its input" in verdict_of(ok(input_digest="other"), got=np.arange(3.0) * 2).reason
    mle = verdict_of({"status": "memory", "mro": []})
    assert (mle.verdict, mle.reason) == ("MLE", "MemoryError on case 'c' (limit 512 MiB)")
    re = verdict_of({"status": "raised", "type": "KeyError", "mro": ["KeyError"], "message": "k", "traceback": "tb"})
    assert (re.verdict, re.reason, re.detail["traceback"]) == ("RE", "KeyError: k (case 'c')", "tb")
    assert verdict_of({"status": "bad_output", "message": "not plain data"}).reason == "case 'c': not plain data"
    ce = verdict_of(ok(violations=["open /etc/shadow"]), got=np.arange(3.0) * 2)
    assert ce.verdict == "CE" and "forbidden operation in case 'c'" in ce.reason


def test_contract_errors():
    expected = Expected(error=ValueError("bad"))
    raised = {"status": "raised", "type": "ValueError", "mro": ["ValueError", "Exception"], "message": "m"}
    assert verdict_of(raised, expected=expected) is None
    wrong = verdict_of({**raised, "type": "TypeError", "mro": ["TypeError"]}, expected=expected)
    assert wrong.verdict == "WA" and "expected ValueError (bad), got TypeError" in wrong.reason
    assert "returned normally" in verdict_of(ok(), got=np.zeros(3), expected=expected).reason


def test_violations_while_loading_and_processes():
    with pytest.raises(Verdict, match="forbidden import 'scipy.sparse' at run time, while loading"):
        check_violations({"violations": ["import scipy.sparse (forbidden: scipy.sparse)"]}, None)
    with pytest.raises(Verdict, match="started 2 process"):
        check_violations({"processes": 2}, "c")


class _Started:
    """A child stand-in that has started and replied `ready` (no process behind it)."""

    def __init__(self, ready: dict):
        self.ready, self.closed = ready, False

    def __enter__(self):
        return self

    def close(self):
        self.closed = True


def test_a_load_error_is_named_whatever_the_process_count_says():
    """A child that fails to load exits at once, racing the grader's count of its processes: the
    load error is the reason (a CE either way); a child that loaded and started one is still caught."""
    from harness.judge import Loaded

    error = {"status": "load_error", "type": "WrongSignature", "message": "f(A, B) cannot take 1 argument",
             "mro": [], "processes": 1}
    child = _Started(error)
    with pytest.raises(Verdict, match="WrongSignature: f\\(A, B\\) cannot take 1 argument") as caught:
        with Loaded(child):
            pass
    assert caught.value.verdict == "CE" and child.closed
    with pytest.raises(Verdict, match="forbidden import"):  # the audit hook's refusals still come first
        with Loaded(_Started({**error, "violations": ["import scipy.sparse (forbidden: scipy.sparse)"]})):
            pass
    with pytest.raises(Verdict, match="while loading: started 1 process"):
        with Loaded(_Started({"status": "ready", "processes": 1})):
            pass


def test_correctness_runs_smallest_first_and_keeps_the_failing_case():
    cases = correctness_cases(TOY, "")
    assert [n for n, _ in cases] == ["empty", "nan", "three", "random n=10", "random n=100"]
    seen = check_cases(TOY, _double, FakeChild(_double, seconds=0.25), cases)
    assert [c.status for c in seen.cases] == ["pass"] * 5 and seen.first_call_s == 0.25
    wrong = Correctness()
    with pytest.raises(Verdict) as stop:
        check_cases(TOY, _double, FakeChild(lambda x: _double(x) + (x.size > 2)), cases, into=wrong)
    # every case runs (issue 13); the verdict, its size and its inputs are the smallest failing case's
    assert stop.value.detail["size"] == 3.0 and "arg 0" in stop.value.detail["inputs"]
    assert "case 'three'" in stop.value.reason
    assert [(c.name, c.status) for c in wrong.cases] == [("empty", "pass"), ("nan", "pass"), ("three", "WA"),
                                                         ("random n=10", "WA"), ("random n=100", "WA")]
    assert "case 'random n=100'" in wrong.cases[-1].message
    assert wrong.first_call_s == 0.001
    first = Correctness()
    with pytest.raises(Verdict):
        check_cases(TOY, _double, FakeChild(lambda x: _double(x) + (x.size > 2)), cases, into=first,
                    first_failure=True)
    assert [(c.name, c.status) for c in first.cases] == [("empty", "pass"), ("nan", "pass"), ("three", "WA")]


def test_the_verdict_is_the_first_failure_whatever_fails_later():
    cases = correctness_cases(TOY, "")

    def raises_when_big(x):
        if x.size > 50:
            raise KeyError("big")
        return _double(x) + (x.size == 10)

    seen = Correctness()
    with pytest.raises(Verdict) as stop:
        check_cases(TOY, _double, FakeChild(raises_when_big), cases, into=seen)
    assert stop.value.verdict == "WA" and "random n=10" in stop.value.reason
    assert [c.status for c in seen.cases] == ["pass", "pass", "pass", "WA", "RE"]
    assert seen.cases[-1].message == "KeyError: 'big' (case 'random n=100')"


class DyingChild(FakeChild):
    """A fake child that dies (as harness.sandbox.Child raises it) on the cases `dies` picks."""

    def __init__(self, fn, dies, reason: str = "crash", born: list | None = None):
        super().__init__(fn)
        self.dies, self.reason = dies, reason
        (born if born is not None else []).append(self)

    def call(self, args, **how):
        if self.dies(*args):
            raise ChildDied(self.reason, "killed by SIGSEGV" if self.reason == "crash" else "no answer within 20 s")
        return super().call(args, **how)


def test_a_child_that_crashes_is_restarted_for_the_remaining_cases():
    cases = correctness_cases(TOY, "")
    born: list = []
    crashes_on_nan = lambda x: x.size == 1  # noqa: E731 - the 'nan' case
    seen = Correctness()
    with pytest.raises(Verdict) as stop:
        check_cases(TOY, _double, DyingChild(_double, crashes_on_nan, born=born), cases, into=seen,
                    restart=lambda: DyingChild(_double, crashes_on_nan, born=born))
    assert (stop.value.verdict, stop.value.reason) == ("RE", "killed by SIGSEGV (case 'nan')")
    assert [c.status for c in seen.cases] == ["pass", "RE", "pass", "pass", "pass"]
    assert len(born) == 2 and [len(c.log) for c in born] == [1, 3], "one restart, each case called once"


def test_restarts_are_bounded_and_the_rest_say_why_they_did_not_run():
    cases = correctness_cases(TOY, "")
    always = lambda x: True  # noqa: E731
    born: list = []
    seen = Correctness()
    with pytest.raises(Verdict):
        check_cases(TOY, _double, DyingChild(_double, always, born=born), cases, into=seen,
                    restart=lambda: DyingChild(_double, always, born=born))
    runs = MAX_RESTARTS + 1
    assert [c.status for c in seen.cases] == ["RE"] * runs + [NOT_RUN] * (len(cases) - runs)
    assert len(born) == runs
    assert seen.cases[-1].message == f"not run: the child died {runs} times (the last on case {cases[runs - 1][0]!r})"
    lone = Correctness()  # no way to restart (a caller without one): the rest are not run
    with pytest.raises(Verdict):
        check_cases(TOY, _double, DyingChild(_double, always), cases, into=lone)
    assert [c.status for c in lone.cases] == ["RE"] + [NOT_RUN] * (len(cases) - 1)
    assert lone.cases[1].message == "not run: the child died on case 'empty'"


def test_a_time_out_is_not_restarted_every_further_case_could_cost_the_limit():
    cases = correctness_cases(TOY, "")
    born: list = []
    seen = Correctness()
    hangs_on_three = lambda x: x.size == 3  # noqa: E731
    with pytest.raises(Verdict) as stop:
        check_cases(TOY, _double, DyingChild(_double, hangs_on_three, reason="timeout", born=born), cases,
                    into=seen, restart=lambda: DyingChild(_double, hangs_on_three, born=born))
    assert stop.value.verdict == "TLE" and len(born) == 1
    assert [c.status for c in seen.cases] == ["pass", "pass", "TLE", NOT_RUN, NOT_RUN]
    assert "ran out of time on case 'three'" in seen.cases[-1].message


def test_a_forbidden_operation_stops_the_run():
    cases = correctness_cases(TOY, "")

    class Snooping(FakeChild):
        def call(self, args, **how):
            reply, got, wall = super().call(args, **how)
            return ({**reply, "violations": ["open /etc/shadow"]} if args[0].size == 1 else reply), got, wall

    seen = Correctness()
    with pytest.raises(Verdict) as stop:
        check_cases(TOY, _double, Snooping(_double), cases, into=seen)
    assert stop.value.verdict == "CE"
    assert [c.status for c in seen.cases] == ["pass", "CE", NOT_RUN, NOT_RUN, NOT_RUN]
    assert "forbidden operation in case 'nan'" in seen.cases[2].message


def test_timing_alternates_sides_and_keeps_what_it_measured_when_stopped():
    plan = TimingPlan("t", min_reps=3, max_reps=3, budget_s=0.0)
    sub, ref = FakeChild(_double, seconds=0.001, name="sub"), FakeChild(_double, seconds=0.002, name="ref")
    measured = timing.measure(TOY, plan, sub, ref, secret="")
    assert [t.size for t in measured.rows] == [1000, 4000] and all(t.reps == 3 for t in measured.rows)
    assert len(measured.calls) == 6 and measured.first_reference_s == 0.002 and measured.wall_s > 0
    assert measured.rows[0].speedup == pytest.approx(2.0) and measured.rows[0].measure == 1000.0
    order = []
    sub.log, ref.log = order, order
    timing.measure(TOY, TimingPlan("t", 3, 3, 0.0, max_sizes=1), sub, ref, secret="")
    assert order == ["ref", "sub", "sub", "ref", "ref", "sub", "sub", "ref"], "warm-up, then alternating"
    partial = Measured()
    wrong_when_big = FakeChild(lambda x: 2 * x + (x.size > 2000), name="sub")
    with pytest.raises(Verdict, match="bench n=4,000"):
        timing.measure(TOY, plan, wrong_when_big, ref, secret="", into=partial)
    assert [t.size for t in partial.rows] == [1000] and len(partial.calls) == 3


def test_how_a_grade_ended():
    v = Outcome.of(Verdict("WA", "case 'x': wrong", case="x", diff=None))
    assert (v.verdict, v.reason, v.failure, v.flags) == ("WA", "case 'x': wrong", {"case": "x"}, ())
    r = Outcome.of(Rejected("3 * 4 is 12, got 7\nbuilt from 3"))
    assert (r.verdict, r.reason, r.failure) == ("WA", "3 * 4 is 12, got 7", {"diff": "built from 3"})
    assert Outcome.of(Rejected("no diff")).failure is None
    try:
        {}["missing"]
    except KeyError as exc:
        bug = Outcome.of(exc)
    assert bug.verdict == "RE" and "grader failed" in bug.reason and "KeyError" in bug.failure["traceback"]
    assert bug.flags == ("grader: internal error (KeyError), review this record",)
