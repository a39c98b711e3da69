"""Sample submissions of a problem (problems/<slug>/examples/), each declaring the verdict it must get.

Two kinds, so that an example shows exactly its point:

- a whole file, `<name>.py`: cheats, crashes and different algorithms, where the file *is* the
  submission. Its first lines declare what the grade must give:
      # expected-verdict: WA          (required: AC, WA, RE, TLE, MLE or CE)
      # grade-plan: quick             (optional: full, quick or off; default off)
      # expected-flag: scaling        (optional: a flag the record must carry)
      # limits: wall_s=2,mem_mb=1024  (optional: limit overrides, to keep a hang short)
- an honest mistake, `<name>.toml`: one of the problem's references with a named change, so it
  follows its reference and shows only the mistake:
      verdict = "WA"
      base = "numpy"                  # reference/numpy.py
      why = "Honest mistake: ..."     # becomes the module docstring of the faulty file
      plan = "off"; flag = "..."; limits = {wall_s = 2}   # optional, as above
      [[change]]
      find = "text that occurs exactly once in the reference"
      replace = "the mistaken text"
  A `find` that no longer occurs exactly once is an error naming the example, so a reference
  that changes under its examples fails loudly instead of drifting.

`Example.source()` is the full faulty file; `Example.file()` gives a path to grade.
"""
from __future__ import annotations

import ast
import contextlib
import difflib
import re
import tempfile
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path

from harness.spec import Limits, Problem

VERDICTS = ("AC", "WA", "RE", "TLE", "MLE", "CE")
PLANS = ("full", "quick", "off")
_HEADER = re.compile(r"^#\s*(expected-verdict|grade-plan|expected-flag|limits)\s*:\s*(\S+)\s*$")
_TOML_KEYS = {"verdict", "base", "why", "plan", "flag", "limits", "change"}


class ExampleError(ValueError):
    """An example whose declaration is malformed or whose change no longer applies."""


@dataclass(frozen=True)
class Example:
    """One sample submission and the grade it must get."""

    problem: Problem
    name: str
    path: Path  # the .py file, or the .toml that describes the change
    verdict: str
    plan: str = "off"
    flag: str | None = None
    limits: dict[str, float] = field(default_factory=dict)
    base: str | None = None  # reference key, for a change of a reference
    why: str = ""
    changes: tuple[tuple[str, str], ...] = ()

    @property
    def is_change(self) -> bool:
        return self.base is not None

    def base_path(self) -> Path:
        if self.base is None:
            raise ExampleError(f"{self._where()} is a whole file, not a change of a reference")
        return self.problem.reference_path(self.base)

    def source(self) -> str:
        """The complete faulty file, as the grader sees it."""
        if not self.is_change:
            return self.path.read_text(encoding="utf-8")
        head = (f"# expected-verdict: {self.verdict}\n"
                f"# {self.name}: reference/{self.base_path().name} of {self.problem.slug} with "
                f"{len(self.changes)} change(s), from examples/{self.path.name}\n")
        return head + _with_docstring(self._changed(), self.why)

    def diff(self) -> str:
        """What the example changes in its reference, as a unified diff ('' for a whole file)."""
        if not self.is_change:
            return ""
        before = self.base_path().read_text(encoding="utf-8").splitlines(keepends=True)
        after = self._changed().splitlines(keepends=True)
        return "".join(difflib.unified_diff(before, after, f"reference/{self.base_path().name}",
                                            f"examples/{self.name}", n=2))

    def _changed(self) -> str:
        text = self.base_path().read_text(encoding="utf-8")
        for i, (find, replace) in enumerate(self.changes, 1):
            count = text.count(find)
            if count != 1:
                raise ExampleError(f"{self._where()}: change {i}'s `find` text occurs {count} times in "
                                   f"reference/{self.base_path().name} (it must occur once): update the example "
                                   f"to follow its reference")
            text = text.replace(find, replace)
        return text

    def grade_limits(self, base: Limits) -> Limits:
        """`base` with this example's overrides (they keep the grade of a hang or a hog short)."""
        from dataclasses import replace

        return replace(base, **self.limits) if self.limits else base

    @contextlib.contextmanager
    def file(self) -> Iterator[Path]:
        """A path to grade: the file itself, or the change applied in a temporary folder."""
        if not self.is_change:
            yield self.path
            return
        with tempfile.TemporaryDirectory(prefix="sparsebench-example-") as tmp:
            path = Path(tmp) / f"{self.name}.py"
            path.write_text(self.source(), encoding="utf-8")
            yield path

    def _where(self) -> str:
        return f"problems/{self.problem.slug}/examples/{self.path.name}"


def discover(problem: Problem) -> list[Example]:
    """Every example of `problem`, by name; a malformed one raises ExampleError naming it."""
    folder = problem.folder / "examples"
    found: dict[str, Example] = {}
    for path in sorted(folder.glob("*.py")) + sorted(folder.glob("*.toml")):
        if path.stem in found:
            raise ExampleError(f"problems/{problem.slug}/examples/ has both {path.stem}.py and {path.stem}.toml")
        found[path.stem] = _from_toml(problem, path) if path.suffix == ".toml" else _from_py(problem, path)
    return [found[name] for name in sorted(found)]


def get(problem: Problem, name: str) -> Example:
    """The example called `name` (file name without .py/.toml), with a message listing the others."""
    examples = {e.name: e for e in discover(problem)}
    if name not in examples:
        known = ", ".join(examples) or "none"
        raise ExampleError(f"{problem.slug} has no example {name!r}; its examples: {known}")
    return examples[name]


def headers(path: Path) -> dict[str, str]:
    """The `# key: value` declarations at the top of a whole-file example."""
    found: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines()[:5]:
        m = _HEADER.match(line)
        if m:
            found[m.group(1)] = m.group(2)
    return found


def _from_py(problem: Problem, path: Path) -> Example:
    h = headers(path)
    where = f"problems/{problem.slug}/examples/{path.name}"
    if "expected-verdict" not in h:
        raise ExampleError(f"{where} needs a first line '# expected-verdict: AC|WA|RE|TLE|MLE|CE'")
    limits = {}
    for item in filter(None, h.get("limits", "").split(",")):
        key, _, value = item.partition("=")
        limits[key] = value
    return _checked(Example(problem, path.stem, path, h["expected-verdict"], h.get("grade-plan", "off"),
                            h.get("expected-flag"), _limits(limits, where), why=_docstring(path)), where)


def _from_toml(problem: Problem, path: Path) -> Example:
    where = f"problems/{problem.slug}/examples/{path.name}"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ExampleError(f"{where}: not valid TOML ({exc})") from None
    unknown = set(raw) - _TOML_KEYS
    if unknown:
        raise ExampleError(f"{where}: unknown keys {', '.join(sorted(unknown))} "
                           f"(known: {', '.join(sorted(_TOML_KEYS))})")
    for key in ("verdict", "base", "why", "change"):
        if key not in raw:
            raise ExampleError(f"{where}: missing `{key}`")
    if raw["base"] not in problem.references:
        raise ExampleError(f"{where}: base = {raw['base']!r} is not a reference of {problem.slug} "
                           f"({', '.join(problem.references) or 'none'})")
    changes = []
    for i, change in enumerate(raw["change"], 1):
        if not isinstance(change, dict) or set(change) != {"find", "replace"} \
                or not all(isinstance(v, str) for v in change.values()) or not change["find"]:
            raise ExampleError(f"{where}: change {i} needs exactly a non-empty `find` and a `replace` string")
        changes.append((change["find"], change["replace"]))
    example = Example(problem, path.stem, path, raw["verdict"], raw.get("plan", "off"), raw.get("flag"),
                      _limits(raw.get("limits", {}), where), base=raw["base"], why=raw["why"].strip(),
                      changes=tuple(changes))
    return _checked(example, where)


def _checked(example: Example, where: str) -> Example:
    if example.verdict not in VERDICTS:
        raise ExampleError(f"{where}: verdict {example.verdict!r} is not one of {', '.join(VERDICTS)}")
    if example.plan not in PLANS:
        raise ExampleError(f"{where}: plan {example.plan!r} is not one of {', '.join(PLANS)}")
    return example


def _limits(raw: dict, where: str) -> dict[str, float]:
    kinds = {f.name: f.type for f in fields(Limits)}
    out: dict[str, float] = {}
    for key, value in raw.items():
        if key not in kinds:
            raise ExampleError(f"{where}: unknown limit {key!r} (limits: {', '.join(kinds)})")
        try:
            out[key] = int(value) if kinds[key] in (int, "int") else float(value)
        except ValueError:
            raise ExampleError(f"{where}: limit {key}={value!r} is not a number") from None
    return out


def _docstring(path: Path) -> str:
    try:
        return ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    except SyntaxError:  # a syntax-error example is a valid example
        return ""


def _with_docstring(text: str, why: str) -> str:
    """`text` with its module docstring replaced by `why` (a reference's docstring describes the
    reference, not the mistake)."""
    doc = f'"""{why.replace(chr(92), chr(92) * 2).replace(chr(34) * 3, chr(92) + chr(34) * 3)}"""\n'
    tree = ast.parse(text)
    first = tree.body[0] if tree.body else None
    lines = text.splitlines(keepends=True)
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        return "".join(lines[:first.lineno - 1]) + doc + "".join(lines[first.end_lineno:])
    return doc + text
