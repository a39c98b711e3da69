"""The contract between the grader and a problem folder.

A problem is a folder problems/<slug>/ whose spec.py defines `PROBLEM = Problem(...)`.
The grader only ever talks to a problem through this dataclass, so adding a problem
never means touching harness/.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

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


@dataclass(frozen=True)
class Problem:
    """Everything the grader needs to know about one problem.

    Sizes are in the problem's own size measure (e.g. nnz); `make_random(rng, size)`
    must build arguments whose `size_of` is about `size`.
    """

    slug: str
    title: str
    difficulty: str  # "easy" | "medium" | "hard"
    entry: str  # function name a submission defines
    edge_cases: Sequence[Case]
    make_random: Callable[[np.random.Generator, int], Args]
    random_sizes: Sequence[int]  # correctness: seeded random cases of growing size
    bench_sizes: Sequence[int]  # speed: sizes the score is averaged over
    size_of: Callable[[Args], float]
    size_unit: str  # what size_of measures, e.g. "nnz"
    expected_exponent: float  # time ~ size ** exponent for a good solution
    check: Checker  # (args, expected, got) -> None when right, else a message
    oracle: str  # trusted reference (path from repo root) that computes expected answers
    timing_reference: str  # reference (path) that submissions are timed against
    references: dict[str, str] = field(default_factory=dict)  # every reference, by name
    baselines: dict[str, str] = field(default_factory=dict)  # library answers, never ranked
    forbidden_imports: tuple[str, ...] = ()
    allowed_errors: tuple[type[BaseException], ...] = ()  # contract errors, e.g. ValueError
    describe: Callable[[Args], str] | None = None  # small inputs printed on failure
    make_bench: Callable[[np.random.Generator, int], Args] | None = None  # default: make_random
    bytes_of: Callable[[Args], float] | None = None  # memory traffic model: reports GB/s
    flops_of: Callable[[Args], float] | None = None  # arithmetic model: reports GFLOP/s
    tags: tuple[str, ...] = ()
    limits: Limits = Limits()
    folder: Path = Path()  # filled in by the loader

    @property
    def module_name(self) -> str:
        """File name (without .py) of a submission for this problem."""
        return self.slug.replace("-", "_")

    def bench_args(self, rng: np.random.Generator, size: int) -> Args:
        return (self.make_bench or self.make_random)(rng, size)
