"""Find and load problem folders: problems/<slug>/ with spec.py, reference/, baselines/, examples/."""
from __future__ import annotations

import importlib.util
import re
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

from harness import ROOT, known
from harness.spec import Problem

PROBLEMS_DIR = ROOT / "problems"


class ProblemError(Exception):
    """A problem that does not exist or whose spec is malformed."""


def module_name_for(path: Path) -> str:
    """One module name per file, whoever loads it: Numba's on-disk cache remembers the
    module a function was compiled in, so a second name for the same file breaks it."""
    path = Path(path).resolve()
    try:
        rel = path.relative_to(ROOT)
    except ValueError:
        rel = path
    return "sb_" + re.sub(r"\W", "_", str(rel.with_suffix("")))


def load_module(path: Path) -> ModuleType:
    """Import a Python file by path (once; later calls return the same module)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    name = module_name_for(path)
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def slugs() -> list[str]:
    return sorted(p.parent.name for p in PROBLEMS_DIR.glob("*/spec.py") if not p.parent.name.startswith("_"))


@cache
def get(slug: str) -> Problem:
    """The problem called `slug`, with a clear error naming the fix when it is missing or broken."""
    path = PROBLEMS_DIR / slug / "spec.py"
    if not path.is_file():
        known = ", ".join(slugs()) or "none"
        raise ProblemError(f"no problem named {slug!r}; known problems: {known} (see `sparsebench list`)")
    try:
        module = load_module(path)
    except Exception as exc:  # a broken spec is the problem author's bug: say where
        raise ProblemError(f"problems/{slug}/spec.py failed to import: {type(exc).__name__}: {exc}") from exc
    problem = getattr(module, "PROBLEM", None)
    if not isinstance(problem, Problem):
        raise ProblemError(f"problems/{slug}/spec.py must define PROBLEM = harness.spec.Problem(...)")
    if problem.slug != slug:
        raise ProblemError(f"problems/{slug}/spec.py declares slug {problem.slug!r}; it must match its folder")
    folder = path.parent
    object.__setattr__(problem, "folder", folder)
    object.__setattr__(problem, "references", _keyed_files(folder / "reference"))
    object.__setattr__(problem, "baselines", _keyed_files(folder / "baselines"))
    for label, key in [("oracle", problem.oracle), ("timing_reference", problem.timing_reference)]:
        if key and key not in problem.references:  # a scored problem has no oracle
            known = ", ".join(problem.references) or "none"
            raise ProblemError(f"problems/{slug}/spec.py: {label}={key!r} names no file "
                               f"problems/{slug}/reference/{key.replace('-', '_')}.py (references: {known})")
    _check_known_answers(problem)
    return problem


def _check_known_answers(problem: Problem) -> None:
    """The oracle must give every known-answer case of cases.toml its written answer (harness.known)."""
    if not any(isinstance(c, known.KnownCase) for c in problem.edge_cases) \
            and not (problem.folder / known.FILE).is_file():
        return
    oracle = None
    if problem.oracle:
        oracle = getattr(load_module(problem.reference_path(problem.oracle)), problem.entry)
    try:
        known.verify(problem.edge_cases, problem.folder, oracle,
                     f"reference/{problem.reference_path(problem.oracle).name}" if problem.oracle else "none")
    except known.KnownCaseError as exc:
        raise ProblemError(str(exc)) from exc


def _keyed_files(folder: Path) -> dict[str, Path]:
    """{"numba-parallel": folder/numba_parallel.py, ...}: every .py file of a folder, by key."""
    return {f.stem.replace("_", "-"): f for f in sorted(folder.glob("*.py")) if not f.name.startswith("_")}


def requirements(path: Path) -> list[str]:
    """Modules a baseline needs beyond the project's own (a `# requires: torch` line at the
    top): without them it is not graded or benchmarked."""
    for line in Path(path).read_text(encoding="utf-8").splitlines()[:5]:
        if line.startswith("# requires:"):
            return line.split(":", 1)[1].split()
    return []


def runnable(path: Path) -> bool:
    """True when every module `requirements(path)` names can be imported here."""
    return all(importlib.util.find_spec(name) is not None for name in requirements(path))


def all_problems() -> list[Problem]:
    return [get(s) for s in slugs()]


def for_file(path: Path) -> Problem | None:
    """The problem a submission file belongs to: by its name (coo_to_csr.py -> coo-to-csr), or
    by its folder for a problem's own files (problems/spmv/examples/transposed.py -> spmv)."""
    slug = path.stem.replace("_", "-")
    if slug in slugs():
        return get(slug)
    try:
        inside = Path(path).resolve().relative_to(PROBLEMS_DIR).parts
    except ValueError:
        return None
    return get(inside[0]) if len(inside) > 1 and inside[0] in slugs() else None
