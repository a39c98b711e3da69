"""The record of one grade as a typed value: `Record` and its parts, built by the grader in
one place (`Grader.record`). `Record.to_dict()` is the JSON object described in
harness/record.py, fields in the order records have always had them; optional fields are
absent, not null, when there is nothing to say.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from harness.seeds import DERIVATION, secret_id
from harness.spec import Limits


def _present(fields: dict[str, Any], optional: tuple[str, ...]) -> dict[str, Any]:
    """`fields` without the optional ones that are None: the schema marks them `?`, absent when unknown."""
    return {k: v for k, v in fields.items() if k not in optional or v is not None}


@dataclass(frozen=True)
class CaseOutcome:
    """One case of correctness (or a call of a scoring hook): passed, its verdict, or not run
    (judge.NOT_RUN: an earlier case ended the child's run), with the reason."""

    name: str
    size: float
    status: str  # "pass", a verdict, or "not run"
    seconds: float | None = None  # a pass: the child's time for the call
    message: str | None = None  # a failure: the reason; not run: why
    wall_s: float | None = None  # a scoring hook's call: the grader's clock around it

    def to_dict(self) -> dict[str, Any]:
        head = {"name": self.name, "size": self.size, "status": self.status}
        tail = {"seconds": self.seconds} if self.status == "pass" else {"message": self.message}
        return {**head, **tail, **({"wall_s": self.wall_s} if self.wall_s is not None else {})}


@dataclass(frozen=True)
class TimingRow:
    """One bench size: medians and spreads of both sides, the speedup, the time around the calls
    the children did not report, every timed call, and the rates when the problem has a model."""

    size: int
    measure: float  # median of size_of over the timed inputs
    reps: int
    sub_median_s: float
    sub_spread: float
    ref_median_s: float
    ref_spread: float
    speedup: float | None  # median of the pairs' ref/sub ratios; None when not finite: flagged, never ranked
    sub_overhead_s: float
    ref_overhead_s: float
    sub_times_s: list[float]
    ref_times_s: list[float]
    gbytes_per_s: float | None = None
    bandwidth_pct: float | None = None
    gflops: float | None = None
    gemm_pct: float | None = None
    batch: int | None = None  # calls per timed command (the times above are per call)
    sub_reported_s: float | None = None  # median of the submission child's own clock, per call (not ranked)
    # the fastest command's time on the grader's clock outside the calls: mapping the inputs before
    # 'go' (prepare) and reading the result after the reply line (post), each side
    sub_prepare_s: float | None = None
    ref_prepare_s: float | None = None
    sub_post_s: float | None = None
    ref_post_s: float | None = None
    # the speedup's 95% bootstrap interval over the timed pairs (absent with a single pair, and in
    # records from before adaptive timing)
    speedup_lo: float | None = None
    speedup_hi: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return _present(asdict(self), ("gbytes_per_s", "bandwidth_pct", "gflops", "gemm_pct", "batch",
                                       "sub_reported_s", "sub_prepare_s", "ref_prepare_s", "sub_post_s",
                                       "ref_post_s", "speedup_lo", "speedup_hi"))


@dataclass(frozen=True)
class TimerCheck:
    """The whole timing phase on the grader's clock beside what the children reported."""

    calls: int
    phase_wall_s: float
    sub_reported_s: float
    sub_seen_s: float
    ref_reported_s: float
    ref_seen_s: float
    unexplained_s: float  # time seen around the submission's calls beyond what the reference needed
    replayed: list[str] | None = None  # correctness cases replayed in the timing child (absent: none)
    untimed: list[int] | None = None  # sizes the plan's phase budget left out (absent: none)

    def to_dict(self) -> dict[str, Any]:
        return _present(asdict(self), ("replayed", "untimed"))


ACTIVITY = ("output", "calls", "background_cpu_s", "between_calls_s", "processes_started", "other_threads_cpu_s")


@dataclass(frozen=True)
class SandboxReport:
    """How the submission was held (from its first child) and what all its children did."""

    isolation: dict[str, str]  # network, filesystem, processes: what was in force
    output: dict[str, int]  # bytes, kept_bytes, cut_bytes, over all children
    calls: int
    background_cpu_s: float
    between_calls_s: float
    processes_started: int
    children: int
    other_threads_cpu_s: float = 0.0  # CPU of every thread but the main one, ready to last call (0: not read)

    @classmethod
    def merge(cls, reports: list[dict]) -> SandboxReport | None:
        """One report for the grade from each child's `Child.report()`; None when no child started."""
        if not reports:
            return None
        return cls(isolation={k: v for k, v in reports[0].items() if k not in ACTIVITY},
                   output={k: sum(r["output"][k] for r in reports) for k in reports[0]["output"]},
                   calls=round(sum(r["calls"] for r in reports), 4),
                   background_cpu_s=round(sum(r["background_cpu_s"] for r in reports), 4),
                   between_calls_s=round(sum(r["between_calls_s"] for r in reports), 4),
                   processes_started=max(r["processes_started"] for r in reports), children=len(reports),
                   other_threads_cpu_s=round(sum(r.get("other_threads_cpu_s", 0.0) for r in reports), 4))

    def to_dict(self) -> dict[str, Any]:
        return {**self.isolation, **{k: getattr(self, k) for k in ACTIVITY}, "children": self.children}


NO_CHILD = {"note": "no child was started (rejected before running)"}


@dataclass(frozen=True)
class Seeds:
    """Where the grade's inputs came from; names the secret without revealing it."""

    hidden: bool
    derivation: str
    secret_id: str | None
    timed: str | None = None  # "fresh": timed inputs from fresh randomness each grade, never replayable

    @classmethod
    def of(cls, secret: str, timed: str | None = None) -> Seeds:
        return cls(hidden=bool(secret), derivation=DERIVATION, secret_id=secret_id(secret), timed=timed)

    def to_dict(self) -> dict[str, Any]:
        return _present(asdict(self), ("timed",))


@dataclass(frozen=True)
class Scored:
    """What a problem graded by a scoring hook adds: the score's unit and direction, its metrics."""

    unit: str
    lower_is_better: bool
    metrics: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Record:
    """One grade as the grader made it, before `record.finish` stamps author, time and id.
    `scored` set makes it a record of kind "score"."""

    problem: str
    file: str
    sha256: str
    threads: int
    plan: str
    baseline: bool
    limits: Limits
    seeds: Seeds
    size_unit: str
    machine: dict[str, Any]
    yardstick: dict[str, Any] | None
    sandbox: SandboxReport | None
    verdict: str
    reason: str
    failure: dict[str, Any] | None
    cases: list[CaseOutcome]
    timings: list[TimingRow]
    score: float | None
    slope: float | None
    reference_slope: float | None
    expected_exponent: float | None
    flags: list[str]
    first_call_s: dict[str, float]
    timer_check: TimerCheck | None
    grade_seconds: float
    scored: Scored | None = None
    score_interval: tuple[float, float] | None = None  # the speed score's 95% interval, when timed
    # the grade was stopped (Ctrl-C) after its verdict: {"during": "timing", "sizes_timed", "sizes_planned"};
    # the verdict stands, the score is None (speed not measured), so no leaderboard ranks it
    interrupted: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)  # the checker's remarks on an answer that passed: never failures
    jit_reused: bool = False  # the file's compiled code came from an earlier grade of the same bytes (jitcache)

    def interval(self) -> dict[str, Any]:
        """{"score_interval": [lo, hi]} right after the score, or nothing (older records lack it)."""
        if self.score_interval is None or self.scored is not None:
            return {}
        return {"score_interval": [float(self.score_interval[0]), float(self.score_interval[1])]}

    def to_dict(self) -> dict[str, Any]:
        s = self.scored
        return {
            "problem": self.problem, "file": self.file, "sha256": self.sha256, "threads": self.threads,
            "plan": self.plan, "baseline": self.baseline, "limits": asdict(self.limits),
            "seeds": self.seeds.to_dict(), "size_unit": self.size_unit, "machine": dict(self.machine),
            "yardstick": self.yardstick,
            **({"kind": "score", "score_unit": s.unit, "lower_is_better": s.lower_is_better} if s else {}),
            "sandbox": self.sandbox.to_dict() if self.sandbox else dict(NO_CHILD),
            "verdict": self.verdict, "reason": self.reason, "failure": self.failure,
            "cases": [c.to_dict() for c in self.cases], "timings": [t.to_dict() for t in self.timings],
            "score": self.score, **self.interval(),
            **({"interrupted": dict(self.interrupted)} if self.interrupted else {}),
            **({"metrics": dict(s.metrics)} if s else {}),
            "slope": self.slope, "reference_slope": self.reference_slope,
            "expected_exponent": self.expected_exponent, "flags": list(self.flags),
            "first_call_s": dict(self.first_call_s),
            **({} if s else {"timer_check": self.timer_check.to_dict() if self.timer_check else None}),
            "grade_seconds": self.grade_seconds, **({"notes": list(self.notes)} if self.notes else {}),
            **({"jit_reused": True} if self.jit_reused else {}),
        }
