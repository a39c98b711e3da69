"""Discovery of problems' references and example submissions, for parametrised tests."""
from __future__ import annotations

import re
from pathlib import Path

from harness import ROOT, problems

HEADER = re.compile(r"^#\s*(expected-verdict|grade-plan|expected-flag)\s*:\s*(\S+)\s*$")


def headers(path: Path) -> dict[str, str]:
    """The `# key: value` lines at the top of an example file."""
    found: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines()[:5]:
        m = HEADER.match(line)
        if m:
            found[m.group(1)] = m.group(2)
    return found


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
        folder = ROOT / "solutions" / "examples" / p.module_name
        out += [(p.slug, f) for f in sorted(folder.glob("*.py"))]
    return out
