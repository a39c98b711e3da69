"""Grade one solution file against one problem: load, correctness, speed, then a record.

The expected answers come from the problem's oracle, run in this (trusted) process;
the submission runs in a sandboxed child and never sees them. Speed is measured
against the problem's timing reference, run in a second child, the two calls
alternating on the same fresh inputs.

This module is the order of a grade; each step lives where its rules are:
harness/judge.py (the scan, the cases, judging each reply), harness/timing.py (the timing
phase), harness/integrity.py (the flags), harness/scored.py (problems graded by a scoring
hook) and harness/record.py (the record's fields).

The verdict is known before timing starts, and a person should not wait for the speed run to
learn it: `on_verdict` receives the record as it stands when correctness has passed (timing
follows), `on_timing` each step of the timing phase, and Ctrl-C during timing ends the grade
with its verdict kept (AC, speed not measured: the record's `interrupted`, score None).
"""
from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from harness import ROOT, integrity, jitcache, sandbox, scored, text, timing
from harness.judge import (VERDICTS, Correctness, Loaded, Outcome, Progress, Verdict, check_cases, correctness_cases,
                           no_progress, replay_cases, sha256_file, static_scan)
from harness.problems import load_module
from harness.schema import Record, SandboxReport, Scored, Seeds
from harness.sandbox import Child
from harness.seeds import SECRET_ENV, case_seed
from harness.spec import Args, Limits, Problem
from harness.timing import PLANS, Measured, Speed, TimedCall, TimingPlan

ALWAYS_FORBIDDEN = ("solutions", "problems", "tinylm", "quiz")  # references, oracles, other people's code


@dataclass
class Findings:
    """What one grade has found so far. The steps add to it as they run, so a grade stopped
    by a verdict (or by a bug in the grader) still records everything up to that point."""

    sha256: str  # of the file, before it runs
    machine: dict  # where it ran (harness.machine)
    yardstick: dict | None  # machine bandwidth/FLOP rate, when a bytes model needs it
    correctness: Correctness = field(default_factory=Correctness)  # a scoring hook's calls are its cases
    measured: Measured = field(default_factory=Measured)
    children: list[Child] = field(default_factory=list)  # the submission's: the record's sandbox report
    hook: dict = field(default_factory=dict)  # a scoring hook's result: {"score", "metrics"}
    jit: dict[str, bytes] = field(default_factory=dict)  # the correctness child's Numba cache, for the timing child
    stored: dict[str, bytes] = field(default_factory=dict)  # an earlier grade's, of the same bytes (jitcache.recall)
    reused: bool = False  # the grade started from `stored`
    interrupted: bool = False  # Ctrl-C during timing: the verdict stands, speed not measured


@dataclass(frozen=True)
class TimingProgress:
    """One step of the timing phase, for a live display: the size being timed (`index` of
    `sizes`), the pairs timed at it so far and the running ratio (reference time over the
    submission's, medians of the ranked per-call times: > 1 is faster than the reference);
    `finished` when the size is done (then `ratio` is its row's speedup)."""

    size: int
    index: int
    sizes: int
    pairs: int
    ratio: float | None
    finished: bool = False


class Grader:
    """One grade of one file: its options, and the steps of a grade. `run()` returns the
    record (a plain dict)."""

    def __init__(self, problem: Problem, file: Path, *, threads: int = 1, plan: str = "full",
                 limits: Limits | None = None, secret: str | None = None, baseline: bool = False,
                 progress: Progress | None = None, first_failure: bool = False,
                 on_verdict: Callable[[dict], None] | None = None,
                 on_timing: Callable[[TimingProgress], None] | None = None):
        self.problem, self.file = problem, Path(file)
        self.threads, self.plan = threads, PLANS[plan]
        self.limits = limits or problem.limits
        self.secret = os.environ.get(SECRET_ENV, "") if secret is None else secret
        self.seeds = Seeds.of(self.secret, timed="fresh" if self.plan.max_reps and problem.scoring is None else None)
        self.baseline = baseline
        self.progress = progress or no_progress
        self.first_failure = first_failure  # stop correctness at the first failing case (slow submissions)
        self.on_verdict, self.on_timing = on_verdict, on_timing
        self.forbidden = tuple(problem.forbidden_imports) + ALWAYS_FORBIDDEN
        self.cpus = sandbox.shared_cpus(threads)  # both sides of a timed pair on the same core(s)
        # compiled code kept from an earlier grade of the same bytes (a baseline uses the references' cache)
        self.store = sandbox.cache_dir() / "jit" if jitcache.enabled(self.secret) and not baseline else None
        oracle = load_module(problem.reference_path(problem.oracle)) if problem.oracle else None
        self.oracle = getattr(oracle, problem.entry) if oracle else None

    def run(self) -> dict:
        """The four steps of a grade. Any step may stop it with a verdict; a grade always ends
        in a record, never in a traceback."""
        from harness import machine  # local: reading versions imports libraries

        started = time.time()
        if not self.baseline:
            sandbox.require(sandbox.wanted_level())  # CI: no grade at all rather than a weaker one
        found = Findings(sha256=sha256_file(self.file), machine=machine.info(), yardstick=self.lookup_yardstick())
        if self.store is not None:
            found.stored = jitcache.recall(self.store, found.sha256)
            found.reused = bool(found.stored)
        try:
            self.load()  # 1. the file alone: compile errors, forbidden imports
            if self.problem.scoring is not None:  # 2-3. a scoring hook drives the submission and measures it
                outcome = self.run_hook(found)
            else:
                cases = self.correctness_cases()
                with contextlib.ExitStack() as stack:
                    timing_children = self.spawn_timing(cases, stack)  # they load while correctness runs
                    self.check_correctness(cases, found)  # 2. every case against the oracle's answer
                    try:  # the verdict is AC now: Ctrl-C from here on keeps it
                        self.announce(cases, found, started)
                        self.measure_speed(found, timing_children)  # 3. against the timing reference, fresh inputs
                    except KeyboardInterrupt:
                        found.interrupted = True
                outcome = self.accepted(cases, found)
        except sandbox.SandboxUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - a Verdict, a Rejected, or a bug in the grader
            outcome = Outcome.of(exc)
        # 4. the record; every string in it made inert (messages, tracebacks, output, file names
        # and anything the child reported are the submission's to choose: harness/text.py)
        return text.clean_tree(self.record(outcome, found, started).to_dict())

    # -- the steps -------------------------------------------------------------------------
    def load(self) -> None:
        """Compile errors and forbidden imports, found without running the file (a baseline
        may import what it likes: it is shown, never ranked)."""
        static_scan(self.file, () if self.baseline else self.forbidden)

    def correctness_cases(self) -> list[tuple[str, Args]]:
        return correctness_cases(self.problem, self.secret)

    def check_correctness(self, cases: list[tuple[str, Args]], found: Findings) -> None:
        """Every case in one child (a fresh one only after a crash: judge.check_cases)."""
        with contextlib.ExitStack() as children:
            def fresh() -> Child:
                child = children.enter_context(self.child(self.file, arity=_arity(cases), guard=not self.baseline,
                                                          found=found))
                child.seed_jit(found.stored)
                return child

            try:
                check_cases(self.problem, self.oracle, fresh(), cases, progress=self.progress,
                            into=found.correctness, first_failure=self.first_failure, restart=fresh)
                if (self.plan.max_reps or self.store) and not self.baseline:  # for the timing child, the store
                    found.jit = found.children[-1].export_jit()
                    self.keep(found, found.jit)
            except KeyboardInterrupt:  # no verdict yet: the grade stops, its children at once
                for child in found.children:
                    if hasattr(child, "proc"):
                        child.kill()
                raise

    def announce(self, cases: list[tuple[str, Args]], found: Findings, started: float) -> None:
        """Correctness has passed and timing follows: hand the verdict to `on_verdict` now."""
        if self.on_verdict is None or not self.plan.max_reps:
            return
        self.on_verdict(text.clean_tree(self.record(self.accepted(cases, found, follows=True), found,
                                                    started).to_dict()))

    def spawn_timing(self, cases: list[tuple[str, Args]], stack: contextlib.ExitStack) -> tuple[Loaded, Loaded] | None:
        """The timing children (submission, reference), started now so that they load while
        correctness runs (on every CPU: they are pinned once loaded), closed by `stack` whatever
        happens. Fresh children, born equal: they run nothing before timing (a child that has
        run the correctness cases times up to 15% slower at small sizes), and both run on the
        grade's CPUs (sandbox.shared_cpus)."""
        if not self.plan.max_reps:
            return None
        arity = _arity(cases)
        started = []
        for file, guard in ((self.file, not self.baseline),
                            (self.problem.reference_path(self.problem.timing_reference), False)):
            loading = self.child(file, arity=arity, guard=guard, pinned=True)
            stack.callback(loading.child.close)
            started.append(loading.spawn())
        return started[0], started[1]

    def measure_speed(self, found: Findings, children: tuple[Loaded, Loaded] | None) -> None:
        if children is None:
            return
        # correctness cases for the timing child, built afresh (a table of the public cases is no help)
        rng = np.random.default_rng()
        randoms = self.plan.replays + (int(rng.integers(0, 2)) if self.secret else 0)
        replays = [timing.Replay(*r) for r in replay_cases(self.problem, self.oracle, randoms, rng)] \
            if self.oracle and self.plan.replays else []
        feed = _Feed(self.on_timing, found.measured, len(self.plan.sizes(self.problem)), self.progress)
        loading, reference_loading = children
        found.children.append(loading.child)
        loading.child.seed_jit(found.jit)  # what the correctness child compiled
        with loading as sub, reference_loading as ref:
            try:
                timing.measure(self.problem, self.plan, sub, ref, secret=self.secret, yardstick=found.yardstick,
                               progress=feed.progress, into=found.measured, replays=replays,
                               on_pair=feed.pair if self.on_timing else None)
                if self.store is not None:  # with what the bench sizes compiled (paths for large inputs)
                    self.keep(found, sub.export_jit())
            except KeyboardInterrupt:
                for child in (sub, ref):  # mid-call, maybe: no goodbye, so the grade ends now
                    child.kill()
                raise

    def accepted(self, cases: list[tuple[str, Args]], found: Findings, follows: bool = False) -> Outcome:
        """The AC outcome's reason: the cases, and whether speed was measured (`follows`: it is
        about to be)."""
        n_edge = len(self.problem.edge_cases)
        reason = f"all {len(cases)} cases passed ({n_edge} edge cases, {len(cases) - n_edge} random)"
        if found.interrupted:
            sizes = len(self.plan.sizes(self.problem))
            return Outcome("AC", f"{reason}; speed not measured (interrupted during timing, "
                                 f"{len(found.measured.rows)} of {sizes} sizes timed)")
        return Outcome("AC", reason + ("" if follows or found.measured.rows else "; speed not measured"))

    def run_hook(self, found: Findings) -> Outcome:
        """A problem with a scoring hook: load the submission, let the hook drive it, keep the
        score it measured (kind "score": ranked apart from the speed scores)."""
        scoring = self.problem.scoring
        with self.child(self.file, arity=scoring.arity, guard=not self.baseline, found=found) as sub:
            found.hook = scored.run_hook(self.problem, sub, found.correctness.cases, secret=self.secret,
                                         plan=self.plan.name)
        return Outcome("AC", f"score {found.hook['score']:.4g} {scoring.unit}")

    def record(self, outcome: Outcome, found: Findings, started: float) -> Record:
        """The one place a record is built: the outcome, what was found, and what follows from
        it (score, slopes, flags), all computed here from data."""
        p, measured, scoring = self.problem, found.measured, self.problem.scoring
        accepted = outcome.verdict == "AC"
        sandbox = SandboxReport.merge([c.report() for c in found.children if hasattr(c, "proc")])
        flags = [*outcome.flags, *integrity.background_threads(sandbox, self.threads)]
        speed = Speed()
        if scoring is None and accepted and measured.rows and not found.interrupted:
            speed = timing.summarise(measured.rows)
            flags += integrity.speed_flags(measured.rows, measured.calls, speed,
                                           expected_exponent=p.expected_exponent, size_unit=p.size_unit)
        if scoring is None and measured.per_size:
            flags += integrity.cores(measured.per_size, [t.size for t in measured.rows], self.threads, p.size_unit)
        first = {"submission": found.correctness.first_call_s, "reference": measured.first_reference_s}
        return Record(
            problem=p.slug, file=_relpath(self.file), sha256=found.sha256, threads=self.threads,
            plan=self.plan.name, baseline=self.baseline, limits=self.limits, seeds=self.seeds,
            size_unit=p.size_unit, machine=found.machine, yardstick=found.yardstick, sandbox=sandbox,
            verdict=outcome.verdict, reason=outcome.reason, failure=outcome.failure,
            cases=found.correctness.cases, timings=measured.rows,
            score=found.hook.get("score") if scoring and accepted else speed.score,
            slope=speed.slope, reference_slope=speed.reference_slope,
            expected_exponent=None if scoring else p.expected_exponent, flags=flags,
            first_call_s={k: v for k, v in first.items() if v is not None},
            timer_check=integrity.timer_totals(measured.calls, measured.wall_s, measured.replayed, measured.untimed),
            grade_seconds=round(time.time() - started, 3),
            scored=Scored(scoring.unit, scoring.lower_is_better, found.hook.get("metrics", {})) if scoring else None,
            score_interval=speed.score_interval if speed.score is not None else None,
            interrupted={"during": "timing", "sizes_timed": len(measured.rows),
                         "sizes_planned": len(self.plan.sizes(p))} if found.interrupted else None,
            notes=list(found.correctness.notes), jit_reused=found.reused)

    # -- helpers ---------------------------------------------------------------------------
    def keep(self, found: Findings, files: dict[str, bytes]) -> None:
        """Store what the file's child compiled, for the next grade of the same bytes."""
        if self.store is not None and files and files != found.stored:
            jitcache.keep(self.store, found.sha256, files)
            found.stored = files

    def lookup_yardstick(self) -> dict | None:
        """The machine's bandwidth and GEMM rate, looked up before anything runs, when the problem
        has a bytes model or a gemm_dtype and speed is timed (rows then say '% of bandwidth' or
        '% of GEMM')."""
        from harness import yardstick  # local: a lookup may measure, in a fresh interpreter

        p = self.problem
        gemm = yardstick.gemm_key(p.gemm_dtype) if p.flops_of and p.gemm_dtype else None
        if not ((p.bytes_of or gemm) and self.plan.max_reps):
            return None
        return yardstick.lookup(self.threads, need=(gemm,) if gemm else ())

    def child(self, file: Path, *, arity: int, guard: bool, found: Findings | None = None,
              pinned: bool = False) -> Loaded:
        """A child for `file` with this grade's limits; a submission's child (`found` given)
        is kept for the record's sandbox report; `pinned`: on the grade's CPUs (a timing child)."""
        child = Child(file, self.problem.entry, arity, self.limits, threads=self.threads,
                      guard=guard, forbidden=self.forbidden, cpus=self.cpus if pinned else None)
        if found is not None:
            found.children.append(child)
        return Loaded(child)


class _Feed:
    """Turns the timing phase's callbacks into TimingProgress steps: each timed pair (with the
    running ratio) and each finished size (seen as a new row when the phase reports progress)."""

    def __init__(self, sink: Callable[[TimingProgress], None] | None, measured: Measured, sizes: int,
                 progress: Progress):
        self.sink, self.measured, self.sizes, self.outer, self.done = sink, measured, sizes, progress, 0

    def pair(self, size: int, calls: list[TimedCall]) -> None:
        ratio = timing.pair_speedup(*timing.ranked(calls))
        self.sink(TimingProgress(size, len(self.measured.rows), self.sizes, len(calls), ratio))

    def progress(self, stage: str, done: int, total: int) -> None:
        self.outer(stage, done, total)
        rows = self.measured.rows
        while self.sink is not None and self.done < len(rows):
            row = rows[self.done]
            self.sink(TimingProgress(row.size, self.done, self.sizes, row.reps, row.speedup, finished=True))
            self.done += 1


def _arity(cases: list[tuple[str, Args]]) -> int:
    return len(cases[0][1]) if cases else 0


def _relpath(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(Path(path).resolve())


def grade(problem: Problem, file: Path, **options: Any) -> dict:
    """Grade `file` for `problem` and return the record (not yet written)."""
    return Grader(problem, file, **options).run()


__all__ = ["grade", "Grader", "Findings", "TimingProgress", "PLANS", "TimingPlan", "VERDICTS", "Verdict",
           "case_seed"]
