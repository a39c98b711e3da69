"""Discovery of problems' references and example submissions, for parametrised tests."""
from __future__ import annotations

import re
from dataclasses import fields, replace
from pathlib import Path

from harness import problems
from harness.spec import Limits

HEADER = re.compile(r"^#\s*(expected-verdict|grade-plan|expected-flag|limits)\s*:\s*(\S+)\s*$")


def headers(path: Path) -> dict[str, str]:
    """The `# key: value` lines at the top of an example file."""
    found: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines()[:5]:
        m = HEADER.match(line)
        if m:
            found[m.group(1)] = m.group(2)
    return found


def limits(path: Path, base: Limits) -> Limits:
    """`base` with the overrides of a `# limits: wall_s=2,mem_mb=1024` header, which keeps
    the grade of a hanging or greedy example short."""
    spec = headers(path).get("limits")
    if not spec:
        return base
    types = {f.name: f.type for f in fields(Limits)}
    overrides = {}
    for item in spec.split(","):
        key, _, value = item.partition("=")
        overrides[key] = (int if types[key] in (int, "int") else float)(value)
    return replace(base, **overrides)


def references() -> list[tuple[str, str, str]]:
    """(slug, name, path) for every reference and baseline of every problem."""
    out = []
    for p in problems.all_problems():
        out += [(p.slug, f"reference:{name}", path) for name, path in p.references.items()]
        out += [(p.slug, f"baseline:{name}", path) for name, path in p.baselines.items()]
    return out


def examples() -> list[tuple[str, Path]]:
    out = []
    for p in problems.all_problems():
        folder = p.folder / "examples"
        out += [(p.slug, f) for f in sorted(folder.glob("*.py"))]
    return out
