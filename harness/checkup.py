"""Check one problem folder the way the test suite does, as a list of findings.

`sparsebench check-problem SLUG` prints them and tests/test_problems.py asserts them, so a problem
author sees exactly what CI will say, before CI says it. Each check is a function of the loaded
problem that returns findings; `check(slug)` runs them all in order.
"""
from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from harness import ROOT, codec, problems
from harness.examples import Example, ExampleError, discover
from harness.grader import grade
from harness.seeds import case_seed
from harness.spec import Problem

OK, WARN, SKIP, FAIL = "ok", "warn", "skip", "FAIL"
FILES = ("README.md", "spec.py", "starter.py", "editorial.md")
DIFFICULTIES = ("easy", "medium", "hard")


@dataclass(frozen=True)
class Section:
    """A heading a statement has: found when `keyword` occurs in a `## ` heading (any case)."""

    name: str
    keyword: str
    required: bool = True  # False: recommended, a missing one is a warning
    timed_only: bool = False  # only problems that check answers (a scored problem has no example output)


STATEMENT_SECTIONS = (
    Section("Background", "background"),
    Section("Task", "task"),
    Section("Example", "example", required=False, timed_only=True),
    Section("Constraints and grading", "grading"),
    Section("Complexity target", "complexity", required=False, timed_only=True),
    Section("Hints", "hints"),
    Section("Where real code differs", "where real code differs", required=False),
)


@dataclass(frozen=True)
class Finding:
    """One line of a check-up: a status, what was checked, and why (first line shown, rest kept)."""

    status: str  # ok | warn | skip | FAIL
    what: str
    detail: str = ""

    @property
    def failed(self) -> bool:
        return self.status == FAIL

    def line(self) -> str:
        first = self.detail.splitlines()[0] if self.detail else ""
        return f"{self.status:<4} {self.what}" + (f": {first}" if first else "")


def load(slug: str) -> tuple[Problem | None, Finding]:
    """The problem and a finding on its spec: a spec that does not load stops the check-up."""
    try:
        problem = problems.get(slug)
    except problems.ProblemError as exc:
        return None, Finding(FAIL, "spec", str(exc))
    kind = "graded by a score" if problem.scoring else f"entry {problem.entry}()"
    return problem, Finding(OK, "spec", f"problems/{slug}/spec.py loads ({kind})")


def folder(problem: Problem) -> list[Finding]:
    """The four files every problem has, the statement's sections, the editorial."""
    out = [Finding(OK if (problem.folder / name).is_file() else FAIL, f"file {name}",
                   "present" if (problem.folder / name).is_file() else f"problems/{problem.slug}/{name} is missing")
           for name in FILES]
    return out + statement(problem) + editorial(problem)


def statement(problem: Problem) -> list[Finding]:
    """The statement's standard sections: required ones fail when missing, recommended ones warn."""
    path = problem.folder / "README.md"
    if not path.is_file():
        return []
    text = path.read_text(encoding="utf-8")
    headings = [h.strip().lower() for h in re.findall(r"^##\s+(.+)$", text, flags=re.M)]
    sections = [s for s in STATEMENT_SECTIONS if not (s.timed_only and problem.scoring)]
    missing = [s for s in sections if not any(s.keyword in h for h in headings)]
    out = []
    if not text.startswith("# "):
        out.append(Finding(FAIL, "statement", "README.md must start with a '# slug — title' line"))
    required = [s.name for s in missing if s.required]
    if required:
        out.append(Finding(FAIL, "statement", f"no section {', '.join(required)} (every statement has "
                                              f"{', '.join(s.name for s in sections if s.required)})"))
    else:
        out.append(Finding(OK, "statement", f"sections {', '.join(s.name for s in sections if s not in missing)}"))
    recommended = [s.name for s in missing if not s.required]
    if recommended:
        out.append(Finding(WARN, "statement", f"no section {', '.join(recommended)} (recommended)"))
    out += _placeholders("statement", text)
    return out


def editorial(problem: Problem) -> list[Finding]:
    path = problem.folder / "editorial.md"
    if not path.is_file():
        return []
    text = path.read_text(encoding="utf-8")
    sections = len(re.findall(r"^##\s", text, flags=re.M))
    if not text.startswith("# ") or not sections:
        return [Finding(FAIL, "editorial", "editorial.md needs a '# ' title and at least one '## ' section")]
    return [Finding(OK, "editorial", f"{sections} sections")] + _placeholders("editorial", text)


def _placeholders(what: str, text: str) -> list[Finding]:
    count = len(re.findall(r"\bTODO\b", text))
    return [Finding(WARN, what, f"{count} TODO placeholder(s) from the template left")] if count else []


def spec_shape(problem: Problem) -> list[Finding]:
    """What the Problem dataclass does not enforce but the suite expects of every spec."""
    bad = []
    if problem.difficulty not in DIFFICULTIES:
        bad.append(f"difficulty {problem.difficulty!r} is not one of {', '.join(DIFFICULTIES)}")
    if problem.scoring is not None:
        if not problem.references:
            bad.append("a scored problem needs a reference that scores (reference/<key>.py)")
        return [Finding(FAIL, "spec", b) for b in bad] or [Finding(OK, "spec", "difficulty and references")]
    names = [c.name for c in problem.edge_cases]
    if len(set(names)) != len(names):
        bad.append(f"edge case names must be unique: {', '.join(sorted({n for n in names if names.count(n) > 1}))}")
    sizes = list(problem.bench_sizes)
    if sizes != sorted(sizes) or len(sizes) < 2:
        bad.append(f"bench_sizes must be at least two sizes in increasing order (got {sizes})")
    for label, key in (("oracle", problem.oracle), ("timing_reference", problem.timing_reference)):
        if key not in problem.references:
            bad.append(f"{label}={key!r} is not a reference ({', '.join(problem.references) or 'none'})")
    if bad:
        return [Finding(FAIL, "spec", b) for b in bad]
    out = [Finding(OK, "spec", f"{len(names)} edge case(s), {len(problem.random_sizes)} random size(s), "
                               f"bench sizes {sizes[0]:,}..{sizes[-1]:,} {problem.size_unit}; oracle "
                               f"{problem.oracle}, timed against {problem.timing_reference}")]
    if "template" in problem.tags:
        out.append(Finding(WARN, "spec", "still tagged 'template': give it its own title and tags"))
    return out


# -- grading --------------------------------------------------------------------------------
def submissions(problem: Problem) -> list[tuple[str, Path, bool]]:
    """(label, file, is a baseline) for every reference and baseline: each must get AC."""
    return ([(f"reference {key}", path, False) for key, path in problem.references.items()]
            + [(f"baseline {key}", path, True) for key, path in problem.baselines.items()])


def submission(problem: Problem, label: str, path: Path, baseline: bool = False) -> Finding:
    """A reference or baseline graded for correctness: AC, or a skip when its optional extra is missing."""
    if not problems.runnable(path):
        return Finding(SKIP, label, f"{path.name} needs {', '.join(problems.requirements(path))} (an optional extra)")
    rec = grade(problem, ROOT / path, plan="off", baseline=baseline)
    if rec["verdict"] == "AC":
        return Finding(OK, label, f"AC ({rec['reason']})")
    return Finding(FAIL, label, f"{rec['verdict']}, not AC: {rec['reason']}")


def examples(problem: Problem) -> list[Finding]:
    """Every example graded: each must get its declared verdict (and flag)."""
    try:
        found = discover(problem)
    except ExampleError as exc:
        return [Finding(FAIL, "examples", str(exc))]
    if not found:
        return [Finding(WARN, "examples", f"problems/{problem.slug}/examples/ is empty: add an honest mistake or two")]
    return [example(e) for e in found]


def example(e: Example) -> Finding:
    """One example graded as its declaration says."""
    label = f"example {e.name}"
    try:
        with e.file() as path:
            rec = grade(e.problem, path, plan=e.plan, limits=e.grade_limits(e.problem.limits))
    except ExampleError as exc:
        return Finding(FAIL, label, str(exc))
    if rec["verdict"] != e.verdict:
        return Finding(FAIL, label, f"{rec['verdict']}, declared {e.verdict}: {rec['reason']}")
    if e.flag and not any(f.startswith(e.flag) for f in rec["flags"]):
        return Finding(FAIL, label, f"{rec['verdict']} as declared, but no flag {e.flag!r} (flags: {rec['flags']})")
    return Finding(OK, label, f"{rec['verdict']} as declared" + (f", flag {e.flag}" if e.flag else ""))


def starter(problem: Problem) -> Finding:
    """The starter is gradeable and unsolved: it loads, and its entry raises NotImplementedError."""
    path = problem.folder / "starter.py"
    if not path.is_file():
        return Finding(FAIL, "starter", f"problems/{problem.slug}/starter.py is missing")
    rec = grade(problem, path, plan="off")
    if rec["verdict"] == "RE" and "NotImplementedError" in rec["reason"]:
        return Finding(OK, "starter", "loads and raises NotImplementedError")
    return Finding(FAIL, "starter", f"{rec['verdict']}, expected RE with NotImplementedError: {rec['reason']}")


def oracle_deterministic(problem: Problem) -> Finding:
    """Same seed, same inputs and same expected answer, twice: otherwise a failure cannot be
    replayed, and a correct submission can be graded WA against an answer that moved."""
    if problem.scoring is not None:
        return Finding(SKIP, "oracle", "graded by a score: no oracle")
    entry = getattr(problems.load_module(problem.reference_path(problem.oracle)), problem.entry, None)
    if entry is None:
        return Finding(FAIL, "oracle", f"reference/{problem.oracle}.py defines no {problem.entry}()")
    builds = [(c.name, c.make) for c in problem.edge_cases]
    builds += [(f"random/{n}", lambda rng, n=n: problem.make_random(rng, n)) for n in problem.random_sizes]
    for label, make in builds:
        try:
            args = [make(np.random.default_rng(case_seed(problem.slug, label))) for _ in range(2)]
            if codec.digest(args[0]) != codec.digest(args[1]):
                return Finding(FAIL, "oracle", f"case {label!r}: two builds from one seed differ (the case "
                                               "uses a global RNG or the clock instead of its `rng`)")
            answers = [codec.digest(_answer(entry, a, problem.allowed_errors)) for a in args]
        except Exception as exc:  # a case or an oracle that crashes is the author's bug: say which
            return Finding(FAIL, "oracle", f"case {label!r}: {type(exc).__name__}: {exc}")
        if answers[0] != answers[1]:
            return Finding(FAIL, "oracle", f"case {label!r}: two calls on the same input give different answers "
                                           "(global state, a global RNG or threads in the oracle?)")
    return Finding(OK, "oracle", f"deterministic: {len(builds)} case(s), built and answered twice per seed")


def _answer(entry: Any, args: tuple, allowed: tuple[type[BaseException], ...]) -> Any:
    """The oracle's answer, or the contract error it raises (as data, to compare)."""
    try:
        return entry(*copy.deepcopy(args))
    except allowed as exc:
        return {"raises": type(exc).__name__, "message": str(exc)}


# -- all of it ------------------------------------------------------------------------------
def check(slug: str) -> Iterator[Finding]:
    """Every finding for problems/<slug>/, as it is found (grades take seconds each)."""
    problem, loaded = load(slug)
    yield loaded
    if problem is None:
        return
    yield from folder(problem)
    yield from spec_shape(problem)
    yield oracle_deterministic(problem)
    for label, path, baseline in submissions(problem):
        yield submission(problem, label, path, baseline)
    yield from examples(problem)
    yield starter(problem)
