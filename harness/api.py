"""The Python API, for notebooks and scripts: `from harness import grade`.

    from harness import grade
    rec = grade("spmv", "solutions/ada/spmv.py", plan="quick")
    rec["verdict"], rec["score"]

It is `sparsebench grade PROBLEM FILE` without the terminal: the same grader and sandbox (the
submission runs in a child process with the problem's limits, never in the notebook's
interpreter), the same record, stamped with an id, a time and an author as the CLI stamps it.
Unlike the CLI it writes no record unless asked (`record=True`): trying things in a notebook
should not fill the leaderboard.

A solution may also be given as source text, so a notebook cell can grade a function it has
just written without saving a file first.
"""
from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from harness import identity, memfloor, problems
from harness import record as records
from harness.spec import Problem

if TYPE_CHECKING:  # the grader imports numpy: only when a grade runs
    from harness.grader import TimingProgress

SOURCE = "<source>"  # the record's "file" for a solution given as text


def grade(problem: str | Problem, solution: str | Path, *, plan: str = "full", threads: int = 1,
          author: str | None = None, record: bool = False, results: str | Path | None = None,
          wall_s: float | None = None, cpu_s: float | None = None, mem_mb: int | None = None,
          baseline: bool = False, secret: str | None = None, progress=None, first_failure: bool = False,
          on_verdict: Callable[[dict], None] | None = None,
          on_timing: Callable[[TimingProgress], None] | None = None) -> dict:
    """Grade one solution and return its record (a dict: verdict, reason, failure, cases,
    timings, score, ...; the schema is in harness/record.py).

    problem   a slug ("spmv") or a Problem (harness.problems.get("spmv"))
    solution  a path to a .py file (str or Path), or the source text itself (a str holding a
              newline); text is graded from a file named after the problem in a private folder
    plan      "full" (as the CLI), "quick" (every size, fewer pairs: a ±10% score in seconds) or "off"
              (correctness only)
    author    recorded author; default as the CLI: solutions/<handle>/ for a file there, else
              git's user.name, else the login name
    record    write the record under RESULTS/runs/ (default: the repository's results/), as the
              CLI does by default; the written path is in rec["record_path"]
    wall_s, cpu_s, mem_mb   override the problem's limits, as --wall, --cpu and --mem
    progress  optional callback(stage, done, total), as the CLI's progress bar gets
    first_failure  stop correctness at the first failing case (as --first-failure; by default
              every case runs and rec["cases"] has each one's outcome)
    on_verdict  optional callback(record so far), called when correctness has passed and timing
              is about to start: the verdict, before the speed run
    on_timing   optional callback(harness.grader.TimingProgress) for each timed pair and size

    Interrupting the kernel (KeyboardInterrupt) during timing returns the record at once, its
    verdict kept: AC, score None, rec["interrupted"] saying how far timing got.

    Raises harness.problems.ProblemError for an unknown problem, FileNotFoundError for a
    missing file, ValueError for a file that is not Python, an unknown plan or a mem_mb too
    small for Python and NumPy to start. A wrong solution is not an exception: it is a record
    whose verdict says what went wrong."""
    from harness.grader import PLANS
    from harness.grader import grade as run_grade

    p = problems.get(problem) if isinstance(problem, str) else problem
    if plan not in PLANS:
        raise ValueError(f"plan must be one of {', '.join(PLANS)}, not {plan!r}")
    overrides = {k: v for k, v in (("wall_s", wall_s), ("cpu_s", cpu_s), ("mem_mb", mem_mb)) if v}
    if mem_mb:
        memfloor.check(mem_mb, threads)
    limits = replace(p.limits, **overrides) if overrides else p.limits
    with _solution_file(p, solution) as (file, from_text):
        rec = run_grade(p, file, threads=threads, plan=plan, limits=limits, baseline=baseline, secret=secret,
                        progress=progress, first_failure=first_failure, on_verdict=on_verdict, on_timing=on_timing)
    if from_text:
        rec["file"] = SOURCE
    rec = records.finish(rec, identity.author(author, None if from_text else file))
    if record:
        runs = Path(results) / "runs" if results is not None else records.RUNS_DIR
        rec["record_path"] = str(records.write(rec, runs))
    return rec


@contextlib.contextmanager
def _solution_file(problem: Problem, solution: str | Path) -> Iterator[tuple[Path, bool]]:
    """(the file to grade, whether it was written from text): `solution` itself, or its text
    written to one stable file per problem under the sparsebench cache (a stable path keeps
    Numba's per-file cache to one folder, where a fresh temporary name per call would leave a
    new one behind each time), held under a lock so that two notebooks grading text at once
    do not overwrite each other."""
    if isinstance(solution, str) and "\n" in solution:
        from harness.sandbox import cache_dir

        folder = cache_dir() / "notebook" / problem.slug
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            file = folder / f"{problem.module_name}.py"
            file.write_text(solution, encoding="utf-8")
            try:
                yield file, True
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
        return
    file = Path(solution)
    if not file.is_file():
        raise FileNotFoundError(f"no such file: {file} (source text must hold a newline)")
    if file.suffix != ".py":
        raise ValueError(f"{file} is not a Python file (.py)")
    yield file, False
