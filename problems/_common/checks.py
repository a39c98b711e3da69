"""Small checker pieces shared by the routing and expert-parallel problems (expert-choice,
deepseek-router, deepseek-moe-forward, ep-dispatch): result-shape validation, float64
comparison with a diff, and a tie-aware comparison of top-C selections.

Messages follow the harness convention: the first line is the one-line reason, the rest a diff.
"""
from __future__ import annotations

from typing import Any

import numpy as np


def array(name: str, value: Any, shape: tuple[int, ...] | None, kinds: str, what: str, *,
          ndim: int | None = None) -> str | None:
    """None when `value` is an ndarray of `shape` (or of `ndim` dimensions) whose dtype kind is in `kinds`."""
    if not isinstance(value, np.ndarray):
        want = f"of shape {shape}" if shape is not None else f"with {ndim} dimension(s)"
        return f"{name} must be a numpy array {want}, got {type(value).__name__}"
    if shape is not None and value.shape != shape:
        return f"{name} has shape {value.shape}, expected {shape}"
    if ndim is not None and value.ndim != ndim:
        return f"{name} has {value.ndim} dimension(s) (shape {value.shape}), expected {ndim}"
    if value.dtype.kind not in kinds:
        return f"{name} has dtype {value.dtype}, expected {what}"
    return None


def nan_note(got: np.ndarray, expected: np.ndarray) -> str:
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(got) & np.isfinite(expected)
    return f" ({int(bad.sum())} NaN/inf where finite values are expected)" if bad.any() else ""


def close64(name: str, got: np.ndarray, expected: np.ndarray, *, rtol: float, atol: float = 0.0,
            hint: str = "") -> str | None:
    """|got - expected| <= atol + rtol * |expected| elementwise (equal values, NaN included, pass)."""
    g = np.asarray(got, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        bad = ~((np.abs(g - e) <= atol + rtol * np.abs(e)) | (g == e) | (np.isnan(g) & np.isnan(e)))
    if not bad.any():
        return None
    idx = np.argwhere(bad)
    lines = [f"{name}: {len(idx)} of {e.size} values differ{nan_note(g, e)}" + (f" ({hint})" if hint else "")]
    for pos in idx[:5]:
        p = tuple(int(i) for i in pos)
        lines.append(f"  {name}{p}: got {g[p].item()!r}, expected {e[p].item()!r}")
    return "\n".join(lines)


def scalar(value: Any) -> float | None:
    """A Python float from a float/int or a size-1 numeric array; None otherwise (bools too)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, (np.ndarray, np.generic)) and np.size(value) == 1 and np.asarray(value).dtype.kind in "iuf":
        return float(np.asarray(value).reshape(()))
    return None


def top_sets(name: str, scores: np.ndarray, got: np.ndarray, expected: np.ndarray, *, what: str,
             owner: str, rtol: float = 1e-12) -> str | None:
    """Each row e of `got` must be a set of C items with the C largest `scores[e]`.

    `expected` is the oracle's selection (ties to the lower index). A different set passes only
    when every item it swaps lies within rounding (rtol) of the oracle's C-th largest score and
    the swapped scores are not exactly equal there: two items whose scores are bit-identical are
    a real tie, and the lower index must win it. Rows of `got` must already be distinct."""
    for e in range(got.shape[0]):
        g, x = set(got[e].tolist()), set(expected[e].tolist())
        if g == x:
            continue
        col = scores[e]
        thr = float(col[expected[e]].min())
        tol = rtol * abs(thr)
        swapped = sorted(g ^ x)
        far = [t for t in swapped if abs(col[t] - thr) > tol]
        if far:
            t = far[0]
            side = "takes" if t in g else "leaves out"
            return (f"{name}[{e}]: {owner} {e} {side} {what} {t} (score {col[t]!r}), but its C = {got.shape[1]} "
                    f"largest scores end at {thr!r}\n"
                    f"  got      {sorted(g)[:12]}\n  expected {sorted(x)[:12]}")
        if all(col[t] == thr for t in swapped):
            lo = min(swapped)
            return (f"{name}[{e}]: a tie at score {thr!r} was broken the wrong way: equal scores go to the lower "
                    f"{what} index ({lo} must be taken)\n"
                    f"  got      {sorted(g)[:12]}\n  expected {sorted(x)[:12]}")
    return None


# -- every violated rule, most important first ---------------------------------------------
STRUCTURE, VALUES, DTYPE = 0, 1, 2  # the order rules are reported in: structure and values hide nothing


class Rules:
    """Collects every rule an answer breaks, so a surface rule (an index dtype) cannot hide the
    real bug (unsorted rows, wrong values). `report()` is the checker's message: a first line
    naming the most important rule and "(+N more)", then the full list, then each rule's diff."""

    def __init__(self) -> None:
        self.found: list[tuple[int, str]] = []

    def add(self, rank: int, message: str | None) -> bool:
        """Record `message` (a checker message: a reason line, then an optional diff) at `rank`;
        True when it was a violation."""
        if message:
            self.found.append((rank, message))
        return bool(message)

    def __bool__(self) -> bool:
        return bool(self.found)

    def ordered(self) -> list[str]:
        return [m for _, m in sorted(self.found, key=lambda t: t[0])]  # stable: same rank keeps its order

    def report(self) -> str | None:
        messages = self.ordered()
        if not messages:
            return None
        if len(messages) == 1:
            return messages[0]
        heads = [m.partition("\n")[0] for m in messages]
        lines = [f"{heads[0]} (+{len(messages) - 1} more)", f"{len(messages)} rules violated, most important first:"]
        lines += [f"  {i}. {h}" for i, h in enumerate(heads, 1)]
        for h, m in zip(heads, messages):
            rest = m.partition("\n")[2]
            if rest:
                lines += ["", f"{h}:", rest]
        return "\n".join(lines)


def index_array(name: str, arr: np.ndarray, needs_int64: bool) -> str | None:
    """The index-dtype rule: signed integers, int32 or int64 (int64 when `needs_int64`, i.e. a
    dimension or count does not fit in int32). Unsigned and float indices break it."""
    has = "have" if " and " in name else "has"
    if arr.dtype not in (np.dtype(np.int32), np.dtype(np.int64)):
        return f"{name} {has} dtype {arr.dtype}; index arrays must be int32 or int64 (signed integers)"
    if needs_int64 and arr.dtype != np.int64:
        return f"{name} {has} dtype {arr.dtype}, but these sizes need int64 (a dimension or count exceeds 2**31 - 1)"
    return None


INT64_NOTE = "int64 indices where int32 suffices: +33% index traffic"


def int64_note(arrays: list[Any], needs_int64: bool, note: str = INT64_NOTE) -> list[str]:
    """The note (never a failure) for int64 index arrays when int32 would hold them; the default
    text is a CSR's cost (12 -> 16 bytes an entry with float64 values)."""
    if needs_int64:
        return []
    if any(isinstance(a, np.ndarray) and a.dtype == np.int64 for a in arrays):
        return [note]
    return []
