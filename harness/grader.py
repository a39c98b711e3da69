"""Grade one solution file against one problem: correctness, then speed, then a record.

The expected answers come from the problem's oracle, run in this (trusted) process;
the submission runs in a sandboxed child and never sees them. Speed is measured
against the problem's timing reference, run in a second child, the two calls
alternating on the same fresh inputs.
"""
from __future__ import annotations

import ast
import hashlib
import math
import os
import time
import traceback
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any
from collections.abc import Callable

import numpy as np

from harness import ROOT, stats
from harness.seeds import DERIVATION, SECRET_ENV, case_seed, secret_id
from harness.problems import load_module
from harness.sandbox import Child, ChildDied
from harness.spec import Args, Limits, Problem, Rejected

VERDICTS = ("AC", "WA", "RE", "TLE", "MLE", "CE")
SLOPE_TOLERANCE = 0.3  # slope above expected + this is flagged as worse scaling
IMPLAUSIBLE_SPEEDUP = 20.0  # a score above this is flagged for review
ALWAYS_FORBIDDEN = ("solutions", "problems", "tinylm", "quiz")  # references, oracles, other people's code

Progress = Callable[[str, int, int], None]


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


class Expected:
    """The oracle's answer for one case: a value, or a contract error the call must raise."""

    def __init__(self, value: Any = None, error: BaseException | None = None):
        self.value, self.error = value, error


class Verdict(Exception):
    """Raised inside grading to stop at the first failure with its verdict."""

    def __init__(self, verdict: str, reason: str, **detail: Any):
        super().__init__(reason)
        self.verdict, self.reason, self.detail = verdict, reason, detail


def sha256_file(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def static_scan(path: Path, forbidden: tuple[str, ...]) -> None:
    """Compile errors and forbidden imports found without running the file."""
    source = Path(path).read_text(encoding="utf-8", errors="replace")
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as exc:
        raise Verdict("CE", f"syntax error at line {exc.lineno}: {exc.msg}", line=exc.lineno) from None
    banned = set(forbidden)
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            func = node.func
            fname = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if fname in ("import_module", "__import__"):
                names = [node.args[0].value]
        for name in names:
            for ban in banned:
                if name == ban or name.startswith(ban + "."):
                    raise Verdict("CE", f"forbidden import {name!r} at line {node.lineno} "
                                        f"(this problem does not allow {ban})", line=node.lineno)


def describe_args(problem: Problem, args: Args, limit: int = 200) -> str | None:
    """A printable form of small inputs (None when they are too big to be useful)."""
    if problem.describe is not None:
        return problem.describe(args)
    arrays = [a for a in args if isinstance(a, np.ndarray)]
    if sum(a.size for a in arrays) > limit:
        return None
    with np.printoptions(threshold=limit, linewidth=100):
        return "\n".join(f"arg {i}: {a!r}" for i, a in enumerate(args))


class Grader:
    """One grade of one file. `run()` returns the record (a plain dict)."""

    def __init__(self, problem: Problem, file: Path, *, threads: int = 1, plan: str = "full",
                 limits: Limits | None = None, secret: str | None = None, baseline: bool = False,
                 progress: Progress | None = None):
        self.problem, self.file = problem, Path(file)
        self.threads, self.plan = threads, PLANS[plan]
        self.limits = limits or problem.limits
        self.secret = os.environ.get(SECRET_ENV, "") if secret is None else secret
        self.baseline = baseline
        self.progress = progress or (lambda stage, done, total: None)
        self.forbidden = tuple(problem.forbidden_imports) + ALWAYS_FORBIDDEN
        oracle = load_module(problem.reference_path(problem.oracle)) if problem.oracle else None
        self.oracle = getattr(oracle, problem.entry) if oracle else None
        self.cases: list[dict] = []
        self.timings: list[dict] = []
        self.flags: list[str] = []
        self.first_call: dict[str, float] = {}
        self.sub_children: list[Child] = []
        self.timed_calls: list[tuple[float, float, float, float]] = []  # (sub s, sub wall, ref s, ref wall)
        self.timing_wall_s = 0.0  # the grader's own clock around the whole timing phase
        self.yardstick: dict | None = None  # machine bandwidth/FLOP rate, when a bytes model needs it

    # -- cases -------------------------------------------------------------------------
    def correctness_cases(self) -> list[tuple[str, Args]]:
        p = self.problem
        edge = []
        for case in p.edge_cases:
            args = case.make(self._rng(case.name))
            edge.append((p.size_of(args), case.name, args))
        edge.sort(key=lambda t: t[0])  # smallest first: the first failure is the easiest to read
        randoms = [(f"random n={n}", p.make_random(self._rng(f"random/{n}"), n)) for n in p.random_sizes]
        return [(name, args) for _, name, args in edge] + randoms

    def _rng(self, label: str) -> np.random.Generator:
        return np.random.default_rng(case_seed(self.problem.slug, label, self.secret))

    def expected(self, args: Args) -> Expected:
        copies = _deep_copy(args)
        try:
            return Expected(value=self.oracle(*copies))
        except self.problem.allowed_errors as exc:
            return Expected(error=exc)

    # -- verdict helpers -------------------------------------------------------------
    def _judge(self, reply: dict, got: Any, args: Args, expected: Expected, digest: str | None,
               case: str) -> None:
        """Raise Verdict unless this reply is a right answer."""
        _check_violations(reply, case)
        status = reply["status"]
        if status == "memory":
            raise Verdict("MLE", f"MemoryError on case {case!r} (limit {self.limits.mem_mb} MiB)", case=case)
        if status == "raised":
            if expected.error is not None and type(expected.error).__name__ in reply["mro"]:
                return
            if expected.error is not None:
                raise Verdict("WA", f"case {case!r}: expected {type(expected.error).__name__} "
                                    f"({expected.error}), got {reply['type']}: {reply['message']}", case=case)
            raise Verdict("RE", f"{reply['type']}: {reply['message']} (case {case!r})", case=case,
                          traceback=reply.get("traceback", ""))
        if status == "bad_output":
            raise Verdict("WA", f"case {case!r}: {reply['message']}", case=case)
        if expected.error is not None:
            raise Verdict("WA", f"case {case!r}: expected {type(expected.error).__name__} "
                                f"({expected.error}), but the call returned normally", case=case)
        if reply.get("aliased"):
            raise Verdict("WA", f"case {case!r}: the result shares memory with an input; return new arrays",
                          case=case)
        if digest is not None and reply.get("input_digest") != digest:
            raise Verdict("WA", f"case {case!r}: the call modified its input arrays", case=case)
        message = self.problem.check(args, expected.value, got)
        if message:
            first, _, rest = message.partition("\n")
            raise Verdict("WA", f"case {case!r}: {first}", case=case, diff=rest or None)

    def _call(self, child: Child, args: Args, case: str, **how: Any) -> tuple[dict, Any, float]:
        try:
            return child.call(args, **how)
        except ChildDied as death:
            verdict = {"timeout": "TLE", "cpu": "TLE", "memory": "MLE"}.get(death.reason, "RE")
            raise Verdict(verdict, f"{death.detail} (case {case!r})", case=case, output=death.output) from None

    # -- phases ------------------------------------------------------------------------
    def check_correctness(self, child: Child, cases: list[tuple[str, Args]]) -> None:
        for i, (name, args) in enumerate(cases):
            self.progress("correctness", i, len(cases))
            expected = self.expected(args)
            size = float(self.problem.size_of(args))
            try:
                reply, got, _ = self._call(child, args, name)
                if "submission" not in self.first_call and reply.get("status") == "ok":
                    self.first_call["submission"] = reply["seconds"]
                self._judge(reply, got, args, expected, _digest(args), name)
            except Verdict as v:
                v.detail.setdefault("inputs", describe_args(self.problem, args))
                v.detail["size"] = size
                self.cases.append({"name": name, "size": size, "status": v.verdict, "message": v.reason})
                raise
            self.cases.append({"name": name, "size": size, "status": "pass", "seconds": reply.get("seconds")})
        self.progress("correctness", len(cases), len(cases))

    def measure_speed(self, sub: Child, ref: Child) -> None:
        p, plan = self.problem, self.plan
        sizes = plan.sizes(p)
        phase_start = time.perf_counter()
        for si, n in enumerate(sizes):
            self.progress(f"timing {p.size_unit}={n:,}", si, len(sizes))
            sub_t: list[float] = []
            ref_t: list[float] = []
            sub_wall: list[float] = []
            ref_wall: list[float] = []
            measured_sizes: list[float] = []
            rep = -1  # rep -1 is the warm-up (JIT compilation, caches), never timed
            while True:
                args = p.bench_args(np.random.default_rng(case_seed(p.slug, f"bench/{n}/{rep}", self.secret)), n)
                digest = _digest(args)
                name = f"bench {p.size_unit}={n:,}"
                order = [("ref", ref), ("sub", sub)] if rep % 2 else [("sub", sub), ("ref", ref)]
                replies: dict[str, tuple[dict, Any, float]] = {}
                for role, child in order:
                    replies[role] = self._call(child, args, name)
                r_reply, r_got, r_wall = replies["ref"]
                if r_reply["status"] != "ok":
                    raise RuntimeError(f"the timing reference failed on {name}: {r_reply}")
                self._judge(replies["sub"][0], replies["sub"][1], args, Expected(r_got), digest, name)
                if rep == -1:
                    self.first_call.setdefault("reference", r_reply["seconds"])
                else:
                    sub_t.append(replies["sub"][0]["seconds"])
                    ref_t.append(r_reply["seconds"])
                    sub_wall.append(replies["sub"][2])
                    ref_wall.append(r_wall)
                    measured_sizes.append(float(p.size_of(args)))
                    self.timed_calls.append((replies["sub"][0]["seconds"], replies["sub"][2],
                                             r_reply["seconds"], r_wall))
                rep += 1
                spent = max(sum(sub_t), sum(ref_t))
                if rep >= plan.max_reps or (rep >= plan.min_reps and spent >= plan.budget_s):
                    break
            self.timings.append(self._size_row(n, args, measured_sizes, sub_t, ref_t, sub_wall, ref_wall))
            self.timing_wall_s = time.perf_counter() - phase_start
        self.progress("timing", len(sizes), len(sizes))

    def _size_row(self, n: int, args: Args, sizes: list[float], sub_t: list[float], ref_t: list[float],
                  sub_wall: list[float], ref_wall: list[float]) -> dict:
        sub_med, ref_med = stats.median(sub_t), stats.median(ref_t)
        row = {"size": n, "measure": stats.median(sizes), "reps": len(sub_t),
               "sub_median_s": sub_med, "sub_spread": stats.spread(sub_t),
               "ref_median_s": ref_med, "ref_spread": stats.spread(ref_t),
               "speedup": ref_med / sub_med if sub_med > 0 else math.inf,
               # time the grader saw around the call but the child did not report
               "sub_overhead_s": stats.median([w - t for w, t in zip(sub_wall, sub_t)]),
               "ref_overhead_s": stats.median([w - t for w, t in zip(ref_wall, ref_t)]),
               # every timed call, in order (pairs share an input): `sparsebench compare` tests these
               "sub_times_s": list(sub_t), "ref_times_s": list(ref_t)}
        if self.problem.bytes_of:
            row["gbytes_per_s"] = self.problem.bytes_of(args) / sub_med / 1e9
            if self.yardstick and "triad_gbytes_per_s" in self.yardstick:
                row["bandwidth_pct"] = 100.0 * row["gbytes_per_s"] / self.yardstick["triad_gbytes_per_s"]
        if self.problem.flops_of:
            row["gflops"] = self.problem.flops_of(args) / sub_med / 1e9
            from harness.yardstick import gemm_key

            rate = (self.yardstick or {}).get(gemm_key(self.problem.gemm_dtype)) if self.problem.gemm_dtype else None
            if rate:
                row["gemm_pct"] = 100.0 * row["gflops"] / rate
        return row

    def run(self) -> dict:
        if self.problem.scoring is not None:
            return self.run_scored()
        started = time.time()
        record = self._base_record()
        verdict, reason, failure = "AC", "all cases passed", None
        try:
            static_scan(self.file, () if self.baseline else self.forbidden)
            cases = self.correctness_cases()
            arity = len(cases[0][1]) if cases else 0
            with self._child(self.file, guard=not self.baseline, arity=arity) as sub:
                self.check_correctness(sub, cases)
            if self.plan.max_reps:
                # fresh children for timing, born equal: a child that has run the correctness
                # cases times measurably slower (up to 15% at small sizes) than a fresh one
                with self._child(self.file, guard=not self.baseline, arity=arity) as sub, \
                        self._child(self.problem.reference_path(self.problem.timing_reference),
                                    guard=False, arity=arity,
                                    role="reference") as ref:
                    self.measure_speed(sub, ref)
            n_edge = len(self.problem.edge_cases)
            reason = (f"all {len(cases)} cases passed ({n_edge} edge cases, {len(cases) - n_edge} random)"
                      + ("" if self.timings else "; speed not measured"))
        except Verdict as v:
            verdict, reason = v.verdict, v.reason
            failure = {k: val for k, val in v.detail.items() if val is not None}
        except Exception as exc:  # noqa: BLE001 - a grade always ends in a record, never a traceback
            verdict, reason, failure = self._internal_error(exc)
        record["sandbox"] = self._sandbox_record()
        record.update(self._summary(verdict, reason, failure))
        record["grade_seconds"] = round(time.time() - started, 3)
        return record

    def _child(self, file: Path, *, guard: bool, arity: int, role: str = "submission") -> _ChildContext:
        child = Child(file, self.problem.entry, arity, self.limits, threads=self.threads,
                      guard=guard, forbidden=self.forbidden)
        if role == "submission":
            self.sub_children.append(child)  # what the record says about the sandbox comes from these
        return _ChildContext(child)

    def run_scored(self) -> dict:
        """A problem with a scoring hook: load the submission, let the hook drive it, record
        the score it measured (kind "score": ranked apart from the speed scores)."""
        started = time.time()
        scoring = self.problem.scoring
        record = {**self._base_record(), "kind": "score", "score_unit": scoring.unit,
                  "lower_is_better": scoring.lower_is_better}
        verdict, failure, result = "AC", None, {}
        try:
            static_scan(self.file, () if self.baseline else self.forbidden)
            with self._child(self.file, guard=not self.baseline, arity=scoring.arity) as sub:
                result = scoring.run(_Driver(self, sub), self.secret, self.plan.name)
            reason = f"score {result['score']:.4g} {scoring.unit}"
        except Rejected as r:
            first, _, rest = str(r).partition("\n")
            verdict, reason, failure = "WA", first, ({"diff": rest} if rest else None)
        except Verdict as v:
            verdict, reason = v.verdict, v.reason
            failure = {k: val for k, val in v.detail.items() if val is not None}
        except Exception as exc:  # noqa: BLE001 - e.g. a hook tripped by what the submission returned
            verdict, reason, failure = self._internal_error(exc)
        record["sandbox"] = self._sandbox_record()
        record.update({"verdict": verdict, "reason": reason, "failure": failure, "cases": self.cases,
                       "timings": [], "score": result.get("score") if verdict == "AC" else None,
                       "metrics": result.get("metrics", {}), "slope": None, "reference_slope": None,
                       "expected_exponent": None, "flags": self.flags, "first_call_s": self.first_call,
                       "grade_seconds": round(time.time() - started, 3)})
        return record

    def _internal_error(self, exc: Exception) -> tuple[str, str, dict]:
        """An exception the grader did not expect still ends in a record: RE, flagged for
        review, since the fault may be the grader's rather than the submission's."""
        self.flags.append(f"grader: internal error ({type(exc).__name__}), review this record")
        return ("RE", f"the grader failed on this submission: {type(exc).__name__}: {exc}",
                {"traceback": traceback.format_exc()[-4000:]})

    def _summary(self, verdict: str, reason: str, failure: dict | None) -> dict:
        score = slope = ref_slope = None
        if verdict == "AC" and self.timings:
            score = stats.geomean([t["speedup"] for t in self.timings])
            slope = stats.loglog_slope([t["measure"] for t in self.timings], [t["sub_median_s"] for t in self.timings])
            ref_slope = stats.loglog_slope([t["measure"] for t in self.timings],
                                           [t["ref_median_s"] for t in self.timings])
            slope = None if math.isnan(slope) else slope
            ref_slope = None if math.isnan(ref_slope) else ref_slope
            # judged against the worse of the spec's exponent and the reference's measured one, so
            # cache effects at large sizes do not flag an honest linear solution
            bar = max(self.problem.expected_exponent, ref_slope or 0.0) + SLOPE_TOLERANCE
            if slope is not None and slope > bar:
                self.flags.append(f"scaling: time grows as {self.problem.size_unit}^{slope:.2f}, "
                                  f"expected ^{self.problem.expected_exponent:g}")
            if score > IMPLAUSIBLE_SPEEDUP:
                self.flags.append(f"review: score {score:.1f}x is implausibly far above the reference")
            self._check_hidden_time()
            self._check_timer_phase()
        return {"verdict": verdict, "reason": reason, "failure": failure, "cases": self.cases,
                "timings": self.timings, "score": score, "slope": slope, "reference_slope": ref_slope,
                "expected_exponent": self.problem.expected_exponent, "flags": self.flags,
                "first_call_s": self.first_call, "timer_check": self._timer_totals()}

    def _check_hidden_time(self) -> None:
        """Work done outside the child's timer (patched clocks, lazy results) shows up as
        overhead the grader sees but the reference does not have."""
        for t in self.timings:
            extra = t["sub_overhead_s"] - t["ref_overhead_s"]
            # half the submission's own time too: a slow call leaves the machine's caches and
            # scheduler in a state that costs the bookkeeping after it a few ms; a real lie is larger
            if extra > max(0.005, 0.5 * t["ref_median_s"], 0.5 * t["ref_overhead_s"], 0.5 * t["sub_median_s"]):
                self.flags.append(f"timer: {extra * 1e3:.1f} ms per call at {self.problem.size_unit}="
                                  f"{t['size']:,} spent outside the timed call")
                return

    def _timer_totals(self) -> dict | None:
        """The whole timing phase on the grader's clock beside what the children reported."""
        if not self.timed_calls:
            return None
        sub_s, sub_w, ref_s, ref_w = (sum(c[i] for c in self.timed_calls) for i in range(4))
        return {"calls": len(self.timed_calls), "phase_wall_s": round(self.timing_wall_s, 4),
                "sub_reported_s": round(sub_s, 6), "sub_seen_s": round(sub_w, 6),
                "ref_reported_s": round(ref_s, 6), "ref_seen_s": round(ref_w, 6),
                # time the grader saw around the submission's calls beyond what the reference needed
                "unexplained_s": round((sub_w - sub_s) - (ref_w - ref_s), 6)}

    def _check_timer_phase(self) -> None:
        """The per-size check above looks at medians; this one adds up every timed call,
        so a clock that lies only now and then is caught too, and a child that claims
        more time than the grader saw (a forged reply) is named."""
        if any(f.startswith("timer") for f in self.flags):
            return
        totals = self._timer_totals()
        if totals is None:
            return
        if any(s > w + 1e-3 or s <= 0 for s, w, _, _ in self.timed_calls):
            self.flags.append("timer: the submission's child reported a time the grader's clock contradicts")
            return
        ref_overhead = totals["ref_seen_s"] - totals["ref_reported_s"]
        bar = max(0.05, 0.5 * totals["ref_reported_s"], 0.5 * ref_overhead, 0.5 * totals["sub_reported_s"])
        if totals["unexplained_s"] > bar:
            self.flags.append(f"timer: {totals['unexplained_s']:.3f} s of the timing phase spent in the "
                              f"submission's calls outside its timed region")

    def _sandbox_record(self) -> dict:
        """How the submission was held (namespaces or audit hook only), how much of its
        output was cut, and whether it kept working between calls."""
        reports = [c.report() for c in self.sub_children if hasattr(c, "proc")]
        if not reports:
            return {"note": "no child was started (rejected before running)"}
        report = {**reports[0], "children": len(reports),
                  "output": {k: sum(r["output"][k] for r in reports) for k in reports[0]["output"]}}
        for key in ("calls", "background_cpu_s", "between_calls_s"):
            report[key] = round(sum(r[key] for r in reports), 4)
        report["processes_started"] = max(r["processes_started"] for r in reports)
        busy, idle = report["background_cpu_s"], report["between_calls_s"]
        if busy > 0.05 and busy > 0.1 * idle:  # an honest child idles at about 1% (wake-ups)
            self.flags.append(f"threads: the submission used {busy:.2f} s of CPU between calls "
                              f"({idle:.2f} s), work left running in the background")
        return report

    def _base_record(self) -> dict:
        from harness import machine, yardstick  # local: reading versions imports libraries

        p = self.problem
        gemm = yardstick.gemm_key(p.gemm_dtype) if p.flops_of and p.gemm_dtype else None
        if (p.bytes_of or gemm) and self.plan.max_reps:  # timed against a model: % of bandwidth / GEMM rate
            self.yardstick = yardstick.lookup(self.threads, need=(gemm,) if gemm else ())
        return {"problem": self.problem.slug, "file": _relpath(self.file), "sha256": sha256_file(self.file),
                "threads": self.threads, "plan": self.plan.name, "baseline": self.baseline,
                "limits": asdict(self.limits),
                "seeds": {"hidden": bool(self.secret), "derivation": DERIVATION,
                          "secret_id": secret_id(self.secret)},
                "size_unit": self.problem.size_unit, "machine": machine.info(),
                "yardstick": self.yardstick}


class _Driver:
    """harness.spec.Driver for scoring hooks: calls into the sandboxed submission, turning a
    crash, a time-out or a forbidden operation into the grade's verdict."""

    def __init__(self, grader: Grader, child: Child):
        self.grader, self.child = grader, child

    def call(self, *args: Any, keep: str | None = None, on: str | None = None, method: str | None = None,
             wall_s: float | None = None, label: str = "") -> Any:
        label = label or (f"{on}.{method}" if on else self.grader.problem.entry)
        limits = self.child.limits
        if wall_s is not None:
            self.child.limits = replace(limits, wall_s=wall_s)
        try:
            reply, got, wall = self.grader._call(self.child, args, label, keep=keep, on=on, method=method)
        finally:
            self.child.limits = limits
        _check_violations(reply, label)
        if reply["status"] == "memory":
            raise Verdict("MLE", f"MemoryError in {label} (limit {limits.mem_mb} MiB)", case=label)
        if reply["status"] == "raised":
            raise Verdict("RE", f"{reply['type']}: {reply['message']} ({label})", case=label,
                          traceback=reply.get("traceback", ""))
        if reply["status"] == "bad_output":
            raise Verdict("WA", f"{label}: {reply['message']}", case=label)
        self.grader.cases.append({"name": label, "size": 0.0, "status": "pass", "seconds": reply.get("seconds"),
                                  "wall_s": round(wall, 3)})
        return got


class _ChildContext:
    """Turns a child that fails to start or load into the right verdict."""

    def __init__(self, child: Child):
        self.child = child

    def __enter__(self) -> Child:
        try:
            self.child.__enter__()
        except ChildDied as death:
            self.child.close()
            verdict = "TLE" if death.reason in ("timeout", "cpu") else "RE"
            raise Verdict(verdict, f"while loading: {death.detail}", output=death.output) from None
        ready = self.child.ready
        try:
            _check_violations(ready, None)
        except Verdict:
            self.child.close()
            raise
        if ready.get("status") == "load_error":
            self.child.close()
            verdict = "MLE" if "MemoryError" in ready.get("mro", []) else "CE"
            raise Verdict(verdict, f"{ready['type']}: {ready['message']}", traceback=ready.get("traceback"))
        return self.child

    def __exit__(self, *exc) -> None:
        self.child.close()


def _check_violations(reply: dict, case: str | None) -> None:
    """A forbidden operation the audit hook refused, or a process the submission
    started, is a CE naming what was attempted (even if the submission caught the error)."""
    where = f" in case {case!r}" if case else " while loading"
    for v in reply.get("violations", []):
        if v.startswith("import "):
            name, _, rule = v[len("import "):].partition(" (forbidden: ")
            raise Verdict("CE", f"forbidden import {name!r} at run time,{where} (this problem does not allow "
                                f"{rule.rstrip(')') or name})", case=case)
        raise Verdict("CE", f"forbidden operation{where}: {v}", case=case)
    if reply.get("processes"):
        raise Verdict("CE", f"forbidden operation{where}: started {reply['processes']} process(es)", case=case)


def _digest(args: Args) -> str:
    from harness import codec

    return codec.digest(args)


def _deep_copy(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*(_deep_copy(v) for v in value))
    if isinstance(value, (tuple, list)):
        return type(value)(_deep_copy(v) for v in value)
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    return value


def _relpath(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(Path(path).resolve())


def grade(problem: Problem, file: Path, **options: Any) -> dict:
    """Grade `file` for `problem` and return the record (not yet written)."""
    return Grader(problem, file, **options).run()


__all__ = ["grade", "Grader", "PLANS", "VERDICTS", "case_seed"]
