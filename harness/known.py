"""Known-answer cases: inputs written out by hand with the answer they must give, kept as data
next to the spec (problems/<slug>/cases.toml) and checked against the oracle when the spec loads.

    [[case]]
    name = "seed-note 4x4 example"     # an edge case of the grade, under this name
    note = "5 at (1, 1) and 7 at (2, 3)"   # optional, shown on failure like any edge case's note
    statement = true                   # optional: README.md's worked example, whose numbers these are
    decimals = 4                       # optional: the answer is written rounded to 4 decimals
    input = {A = {indptr = [0, 0, 1, 2, 2], indices = [1, 3], data = [5.0, 7.0], shape = [4, 4]},
             x = [1.0, 2.0, 3.0, 4.0]}            # in the problem's own terms
    expected = [0.0, 10.0, 28.0, 0.0]  # the answer; a table names some or all of its parts

The spec turns the data into arguments with a function of its own and lists the cases among its
edge cases:

    KNOWN = known.cases(__file__, args=lambda d: (sparse.csr_of(d["A"]), np.array(d["x"])))
    EDGE_CASES = [*KNOWN, Case("empty matrix", ...), ...]

An answer is compared as plain data: a NamedTuple becomes a table of its fields (a tuple answer
names its parts with `parts=("dx", "dw_router", ...)`), arrays become lists; a table in
`expected` compares only the parts it names. Without `decimals` numbers must agree to 1e-12
relative; NaN matches NaN. `problems.get` calls `verify`, which runs the oracle on every known
case and raises KnownCaseError naming the case and the first part that differs, and also when
cases.toml holds a case the spec does not list.
"""
from __future__ import annotations

import copy
import math
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from harness.spec import Args, Case

FILE = "cases.toml"
_KEYS = {"name", "note", "statement", "decimals", "input", "expected"}


class KnownCaseError(ValueError):
    """A cases.toml that is malformed, or a known answer the oracle does not give."""


@dataclass(frozen=True)
class KnownCase(Case):
    """An edge case whose answer is written down (in cases.toml), so the oracle is checked too."""

    input: dict = field(default_factory=dict)
    expected: Any = None
    decimals: int | None = None
    statement: bool = False  # the statement's worked example
    parts: tuple[str, ...] = ()  # names of a tuple answer's parts
    where: str = ""  # problems/<slug>/cases.toml


def cases(spec_file: str | Path, args: Callable[[dict], Args], parts: Sequence[str] = ()) -> list[KnownCase]:
    """The known cases of the problem whose spec is `spec_file`, in file order; `args(input)`
    builds a call's arguments from a case's `input` table."""
    path = Path(spec_file).with_name(FILE)
    where = f"problems/{path.parent.name}/{FILE}"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KnownCaseError(f"{where} is missing (the spec reads its known cases from it)") from None
    except tomllib.TOMLDecodeError as exc:
        raise KnownCaseError(f"{where}: not valid TOML ({exc})") from None
    if set(raw) - {"case"} or not isinstance(raw.get("case"), list):
        raise KnownCaseError(f"{where} must hold only [[case]] tables")
    out: list[KnownCase] = []
    for i, entry in enumerate(raw["case"], 1):
        name = entry.get("name")
        label = f"{where}: case {name!r}" if isinstance(name, str) else f"{where}: case {i}"
        unknown = set(entry) - _KEYS
        if unknown:
            raise KnownCaseError(f"{label}: unknown keys {', '.join(sorted(unknown))} "
                                 f"(known: {', '.join(sorted(_KEYS))})")
        missing = [key for key in ("name", "input", "expected") if key not in entry]
        if missing or not isinstance(entry["input"], dict):
            raise KnownCaseError(f"{label} needs a name, an input table and an expected answer")
        if name in (c.name for c in out):
            raise KnownCaseError(f"{label}: the name is used twice")
        decimals = entry.get("decimals")
        if decimals is not None and (not isinstance(decimals, int) or isinstance(decimals, bool) or decimals < 0):
            raise KnownCaseError(f"{label}: decimals must be a whole number >= 0")
        data = entry["input"]
        out.append(KnownCase(name, _maker(args, data), entry.get("note", ""), input=data,
                             expected=entry["expected"], decimals=decimals,
                             statement=bool(entry.get("statement", False)), parts=tuple(parts), where=where))
    return out


def _maker(args: Callable[[dict], Args], data: dict) -> Callable[[Any], Args]:
    return lambda rng: args(copy.deepcopy(data))  # the rng is not used: the input is written out


def names_in_file(folder: Path) -> list[str]:
    """The case names a problem folder's cases.toml holds ([] when it has none)."""
    path = folder / FILE
    if not path.is_file():
        return []
    try:
        return [c.get("name") for c in tomllib.loads(path.read_text(encoding="utf-8")).get("case", [])]
    except tomllib.TOMLDecodeError as exc:
        raise KnownCaseError(f"problems/{folder.name}/{FILE}: not valid TOML ({exc})") from None


def verify(edge_cases: Sequence[Case], folder: Path, oracle: Callable[..., Any] | None, oracle_name: str) -> None:
    """Raise KnownCaseError unless `oracle` gives every known case's answer and every case of the
    folder's cases.toml is among `edge_cases`."""
    known = [c for c in edge_cases if isinstance(c, KnownCase)]
    listed = {c.name for c in known}
    for name in names_in_file(folder):
        if name not in listed:
            raise KnownCaseError(f"problems/{folder.name}/{FILE}: case {name!r} is not among spec.py's edge "
                                 f"cases (list it with known.cases(__file__, ...))")
    if known and oracle is None:
        raise KnownCaseError(f"problems/{folder.name}: known cases need an oracle to check them against")
    for case in known:
        try:
            args = case.make(None)
        except Exception as exc:  # a key the spec's args function wants, a value it cannot convert
            raise KnownCaseError(f"{case.where}: case {case.name!r}: spec.py cannot build the arguments from "
                                 f"its input ({type(exc).__name__}: {exc})") from exc
        try:
            result = oracle(*copy.deepcopy(args))
        except Exception as exc:  # the oracle's own bug, or an input it rejects: say which case
            raise KnownCaseError(f"{case.where}: case {case.name!r}: the oracle ({oracle_name}) raised "
                                 f"{type(exc).__name__}: {exc}") from exc
        got = plain(dict(zip(case.parts, result)) if case.parts else result)
        wrong = difference(case.expected, got, case.decimals)
        if wrong:
            raise KnownCaseError(f"{case.where}: case {case.name!r}: {wrong} (the oracle is {oracle_name}; "
                                 f"fix the case or the oracle)")


def plain(value: Any) -> Any:
    """`value` as TOML-like data: tables, lists, numbers, booleans and strings."""
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a NamedTuple: CSR, COO, Routing
        return {name: plain(v) for name, v in zip(value._fields, value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (np.ndarray, np.generic)):
        return value.tolist()
    return value


def difference(expected: Any, got: Any, decimals: int | None, at: str = "the answer") -> str | None:
    """None when `got` is `expected` (to `decimals` places where given), else what differs first."""
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return f"{at}: expected a table of {', '.join(expected)}, the oracle gives {_short(got)}"
        for key, want in expected.items():
            if key not in got:
                return f"{at} has no part {key!r} (its parts: {', '.join(got) or 'none'})"
            wrong = difference(want, got[key], decimals, key if at == "the answer" else f"{at}.{key}")
            if wrong:
                return wrong
        return None
    if isinstance(expected, list):
        if not isinstance(got, list) or len(got) != len(expected):
            return f"{at}: expected {len(expected)} items, the oracle gives {_short(got)}"
        for i, (want, have) in enumerate(zip(expected, got)):
            wrong = difference(want, have, decimals, f"{at}[{i}]")
            if wrong:
                return wrong
        return None
    if isinstance(expected, bool) or isinstance(got, bool) or isinstance(expected, str):
        return None if type(got) is type(expected) and got == expected else \
            f"{at}: expected {expected!r}, the oracle gives {got!r}"
    if isinstance(expected, (int, float)):
        if not isinstance(got, (int, float)):
            return f"{at}: expected {expected!r}, the oracle gives {_short(got)}"
        if _same_number(float(expected), float(got), decimals):
            return None
        written = f" (written to {decimals} decimals)" if decimals is not None else ""
        return f"{at}: expected {expected!r}{written}, the oracle gives {got!r}"
    return f"{at}: cannot compare {type(expected).__name__} values"


def _same_number(want: float, got: float, decimals: int | None) -> bool:
    if math.isnan(want) or math.isnan(got):
        return math.isnan(want) and math.isnan(got)
    if math.isinf(want) or math.isinf(got):
        return want == got
    tol = 1e-12 * max(1.0, abs(want)) + (0.5 * 10.0 ** -decimals if decimals is not None else 0.0)
    return abs(got - want) <= tol


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
