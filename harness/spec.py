"""The contract between the grader and a problem folder.

A problem is a folder problems/<slug>/ whose spec.py defines `PROBLEM = Problem(...)`, with
its references in reference/<key>.py, library baselines in baselines/<key>.py and sample
submissions in examples/. The grader only ever talks to a problem through this dataclass, so
adding a problem never means touching harness/.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager

import numpy as np

Args = tuple  # the positional arguments of one call of the entry function
MakeCase = Callable[[np.random.Generator], Args]
Checker = Callable[[Args, Any, Any], "str | None"]


@dataclass(frozen=True)
class Case:
    """A named edge case: `make(rng)` builds the call's arguments."""

    name: str
    make: MakeCase
    note: str = ""  # why the case exists, shown on failure


@dataclass(frozen=True)
class Limits:
    """Resource limits for one child process (a whole grade of one submission)."""

    wall_s: float = 20.0  # per call, wall clock
    cpu_s: float = 900.0  # whole child, CPU seconds
    mem_mb: int = 4096  # address space of the child
    output_kb: int = 64  # captured stdout/stderr kept (head + tail)


class Rejected(Exception):
    """Raised by a scoring hook when the submission's output breaks the contract: graded WA,
    with the message (first line the reason, the rest a diff) as for a checker."""


class Driver(Protocol):
    """What a scoring hook may do with the sandboxed submission.

    `call(*args)` calls the entry function; `keep="name"` keeps the result inside the sandbox
    (an object, e.g. a trained model) instead of returning it; `on="name", method="m"` calls
    a method of a kept object. Results cross the boundary as data (harness.codec). `wall_s`
    overrides the per-call wall-clock limit. A crash, a time-out or a forbidden operation ends
    the grade with its verdict (RE, TLE, MLE, CE) by raising out of `call`.

    `with driver.budget(seconds, what):` makes every call inside the block share one wall-clock
    allowance, on the grader's clock from the block's start to its end (gaps between calls and
    whatever the submission does in the background included); a call is stopped when it runs
    out and the grade is TLE naming `what`. Use it for everything before scoring, so no work can
    move from a timed method into an untimed one. `peak_memory()` is the most resident memory
    the submission's processes have held so far, in bytes, as the grader reads it from /proc
    (None where it cannot)."""

    def call(self, *args: Any, keep: str | None = None, on: str | None = None, method: str | None = None,
             wall_s: float | None = None, label: str = "") -> Any: ...

    def budget(self, seconds: float, what: str) -> AbstractContextManager[Any]: ...

    def peak_memory(self) -> int | None: ...


@dataclass(frozen=True)
class Scoring:
    """A problem graded by a measured score instead of expected answers (e.g. train a model under
    a time budget, then measure it on data the submission never sees).

    `run(driver, secret, plan)` drives the submission and returns {"score": float, "metrics":
    {name: scalar}}; `plan` is the grader's timing plan ("full", "quick", "off"), so a hook can
    spend less time when asked to; `secret` is the leaderboard secret to seed hidden data with.
    Raise `Rejected` for a broken contract. Records of such problems have kind "score"."""

    run: Callable[[Driver, str, str], dict]
    unit: str  # of the score, e.g. "bits/char"
    lower_is_better: bool = False
    arity: int = 1  # positional arguments of the entry function


@dataclass(frozen=True)
class Problem:
    """Everything the grader needs to know about one problem.

    Sizes are in the problem's own size measure (e.g. nnz); `make_random(rng, size)`
    must build arguments whose `size_of` is about `size`. A problem either checks answers
    against an oracle (edge cases, random cases, check, oracle, timing reference: the
    usual case) or is graded by a `scoring` hook, which then needs none of those.
    """

    slug: str
    title: str
    difficulty: str  # "easy" | "medium" | "hard"
    entry: str  # function name a submission defines
    edge_cases: Sequence[Case] = ()
    make_random: Callable[[np.random.Generator, int], Args] | None = None
    random_sizes: Sequence[int] = ()  # correctness: seeded random cases of growing size
    bench_sizes: Sequence[int] = ()  # speed: sizes the score is averaged over
    size_of: Callable[[Args], float] | None = None
    size_unit: str = ""  # what size_of measures, e.g. "nnz"
    expected_exponent: float = 1.0  # time ~ size ** exponent for a good solution
    check: Checker | None = None  # (args, expected, got) -> None when right, else a message
    oracle: str = ""  # key of the reference that computes expected answers: reference/<key>.py
    timing_reference: str = ""  # key of the reference submissions are timed against
    forbidden_imports: tuple[str, ...] = ()
    allowed_errors: tuple[type[BaseException], ...] = ()  # contract errors, e.g. ValueError
    describe: Callable[[Args], str] | None = None  # small inputs printed on failure
    # (args, got) -> notes on a passing answer ("int64 indices where int32 suffices"): shown, never a failure
    notes: Callable[[Args, Any], list[str]] | None = None
    # the child's message for a result that is not plain data -> what to return instead (or None)
    explain: Callable[[str], str | None] | None = None
    make_bench: Callable[[np.random.Generator, int], Args] | None = None  # default: make_random
    bytes_of: Callable[[Args], float] | None = None  # memory traffic model: reports GB/s
    flops_of: Callable[[Args], float] | None = None  # arithmetic model: reports GFLOP/s
    # the dtype ("float64", "float32") whose dense GEMM rate is the ceiling for flops_of: set it and
    # the grade also reports % of this machine's GEMM rate (harness.yardstick) next to GFLOP/s
    gemm_dtype: str | None = None
    tags: tuple[str, ...] = ()
    limits: Limits = Limits()
    scoring: Scoring | None = None  # graded by a measured score instead (see Scoring)
    folder: Path = Path()  # the loader fills in these three from the problem folder:
    references: dict[str, Path] = field(default_factory=dict)  # reference/<key>.py, by key
    baselines: dict[str, Path] = field(default_factory=dict)  # baselines/<key>.py: shown, never ranked

    def __post_init__(self) -> None:
        if self.scoring is None:
            missing = [name for name in ("make_random", "size_of", "check", "oracle", "timing_reference")
                       if not getattr(self, name)]
            if missing or not self.edge_cases or len(self.bench_sizes) < 1:
                raise TypeError(f"problem {self.slug!r} checks answers, so it needs edge_cases, bench_sizes and "
                                f"{', '.join(missing) or 'its oracle fields'} (or a scoring hook instead)")

    @property
    def module_name(self) -> str:
        """File name (without .py) of a submission for this problem."""
        return self.slug.replace("-", "_")

    def reference_path(self, key: str) -> Path:
        """The file of reference `key` ("numba-parallel" -> reference/numba_parallel.py)."""
        return self.folder / "reference" / f"{key.replace('-', '_')}.py"

    def bench_args(self, rng: np.random.Generator, size: int) -> Args:
        return (self.make_bench or self.make_random)(rng, size)
