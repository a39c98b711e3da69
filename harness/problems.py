"""Find and load problem folders (problems/<slug>/spec.py)."""
from __future__ import annotations

import importlib.util
import re
import sys
from functools import lru_cache
from pathlib import Path
from types import ModuleType

from harness import ROOT
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
    return sorted(p.parent.name for p in PROBLEMS_DIR.glob("*/spec.py"))


@lru_cache(maxsize=None)
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
    for label, rel in [("oracle", problem.oracle), ("timing_reference", problem.timing_reference),
                       *problem.references.items(), *problem.baselines.items()]:
        if rel and not (ROOT / rel).is_file():  # a scored problem has no oracle
            raise ProblemError(f"problems/{slug}/spec.py: {label} file {rel} does not exist")
    object.__setattr__(problem, "folder", path.parent)
    return problem


def all_problems() -> list[Problem]:
    return [get(s) for s in slugs()]


def for_file(path: Path) -> Problem | None:
    """The problem a submission file belongs to, by its name (coo_to_csr.py -> coo-to-csr)."""
    slug = path.stem.replace("_", "-")
    return get(slug) if slug in slugs() else None
