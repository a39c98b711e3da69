"""Shared pieces of the Mixture-of-Experts problems: the Routing result, input generators,
FLOP models and the checkers.

Two choices here make grading fair:

- Layer inputs live on binary grids (x in multiples of 1/8, w_router in multiples of
  1/256, w1 on a finer grid), so `x @ w_router` and `x @ w1[e]` are *exact* in float32 and
  float64 whatever the summation order. Every implementation then sees the same logits
  (equal logits are real ties, and the tie rule, lower expert index wins, decides them,
  not rounding) and the same hidden pre-activations (so no rounding flips relu's
  derivative).
- Float32 outputs are compared with a tolerance proportional to the size of the expected
  values in the same slice (a token's row, an expert's matrix), so an all-zeros answer or
  a missing term never passes, while summation-order rounding always does.

Submissions cannot import this module (the `problems` package is off limits to them); the
`Routing` result is harness.types.Routing, which they may import or mirror as a plain 5-tuple.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from harness.types import Routing
from problems._common.checks import DTYPE, STRUCTURE, VALUES, Rules

X_GRID = 1 / 8  # x = integer / 8 with |x| <= 1
ROUTER_GRID = 1 / 256  # w_router = integer / 256 with |w| <= 1/4
FORWARD_RTOL = 1e-4  # float32 forward: rounding is ~1e-6 of a token's output
BACKWARD_RTOL = 1e-3  # float32 backward: longer sums (over tokens), more rounding
SLICE_FLOOR = 1e-2  # a slice's scale is at least this fraction of the array's largest value



def capacity(capacity_factor: float | None, T: int, k: int, E: int) -> int | None:
    """Slots per expert: ceil(capacity_factor * T * k / E), evaluated in this order (None: no limit)."""
    return None if capacity_factor is None else math.ceil(capacity_factor * T * k / E)



# -- generators -------------------------------------------------------------------------
def grid_inputs(rng: np.random.Generator, T: int, D: int, E: int) -> tuple[np.ndarray, np.ndarray]:
    """x (T, D) and w_router (D, E), float32, on the grid that makes x @ w_router exact
    (|logit| <= D/4 in steps of 2**-11: exact for D up to 32768)."""
    x = (rng.integers(-8, 9, (T, D)) * X_GRID).astype(np.float32)
    w_router = (rng.integers(-64, 65, (D, E)) * ROUTER_GRID).astype(np.float32)
    return x, w_router


def expert_weights(rng: np.random.Generator, D: int, H: int, E: int) -> tuple[np.ndarray, np.ndarray]:
    """w1 (E, D, H) and w2 (E, H, D), float32, scaled so activations stay O(1).

    w1 sits on a binary grid fine enough to look Gaussian (about 2**18 / D levels per
    standard deviation: 512 at D = 512) and coarse enough that x @ w1[e] is exact for grid x:
    every implementation then sees the same hidden pre-activations, so relu's kink (where the
    gradient jumps from 0 to 1) cannot be crossed by rounding; exact zeros do occur, and relu'(0) = 0 decides them."""
    limit = 2**24 // (8 * max(D, 1))  # |numerator| bound that keeps sums of D products exact
    bits = int(math.floor(math.log2(limit * math.sqrt(max(D, 1)) / 4)))  # ~4 sigma fit in the limit
    w1 = np.clip(np.round(rng.standard_normal((E, D, H)) / math.sqrt(max(D, 1)) * 2.0**bits), -limit, limit)
    w1 = (w1 / 2.0**bits).astype(np.float32)
    w2 = (rng.standard_normal((E, H, D)) / math.sqrt(max(H, 1))).astype(np.float32)
    return w1, w2


def layer(rng: np.random.Generator, T: int, D: int, H: int, E: int, *, skew: bool = False,
          tied_columns: bool = False, router_scale: float = 1.0,
          saturated: bool = False) -> tuple[np.ndarray, ...]:
    """(x, w_router, w1, w2) for one layer.

    skew: feature 0 is a constant 1 with a large router weight for expert 0, so expert 0 is
    every token's first choice (half of all assignments when k = 2).
    saturated: feature 0 is +1 on even tokens and -1 on odd ones and feeds only expert 0, with
    weight 1024: expert 0's logit is +-1024 exactly. On even tokens every other probability
    underflows to 0.0 although their logits differ, so ranking computed probabilities (ties to
    the lower index) picks expert 1 second where ranking logits picks the true runner-up.
    tied_columns: w_router's last column copies its first, so experts 0 and E-1 tie on
    every token (the lower index must win).
    router_scale: a power of two that multiplies w_router: values and grid scale together,
    so the logits stay exact.
    """
    x, w_router = grid_inputs(rng, T, D, E)
    if router_scale != 1.0:
        assert math.log2(router_scale).is_integer(), "router_scale must be a power of two"
        w_router *= np.float32(router_scale)
    if skew and T and D:
        x[:, 0] = 1.0
        w_router[0, :] = 0.0
        w_router[0, 0] = 16.0
    if saturated and T and D and E > 1:
        x[:, 0] = np.where(np.arange(T) % 2 == 0, 1.0, -1.0)
        w_router[0, :] = 0.0
        w_router[1:, 0] = 0.0
        w_router[0, 0] = 1024.0
    if tied_columns and E > 1:
        w_router[:, -1] = w_router[:, 0]
    w1, w2 = expert_weights(rng, D, H, E)
    return x, w_router, w1, w2


def upstream_grad(rng: np.random.Generator, T: int, D: int) -> np.ndarray:
    """dy (T, D) float32: the gradient of the loss with respect to the layer's output."""
    return rng.standard_normal((T, D)).astype(np.float32)


def forward_args(rng: np.random.Generator, T: int, D: int, H: int, E: int, k: int,
                 capacity_factor: float | None, **layer_options: Any) -> tuple:
    """Arguments of moe_forward: (x, w_router, w1, w2, k, capacity_factor)."""
    return (*layer(rng, T, D, H, E, **layer_options), k, capacity_factor)


def backward_args(rng: np.random.Generator, T: int, D: int, H: int, E: int, k: int,
                  capacity_factor: float | None, aux_coef: float = 0.01, z_coef: float = 0.001, *,
                  zero_dy: bool = False, **layer_options: Any) -> tuple:
    """Arguments of moe_backward: (x, w_router, w1, w2, k, dy, capacity_factor, aux_coef, z_coef)."""
    x, w_router, w1, w2 = layer(rng, T, D, H, E, **layer_options)
    dy = np.zeros((T, D), dtype=np.float32) if zero_dy else upstream_grad(rng, T, D)
    return x, w_router, w1, w2, k, dy, capacity_factor, aux_coef, z_coef


# -- FLOP models ----------------------------------------------------------------------
def forward_flops(T: int, D: int, H: int, E: int, assignments: int) -> float:
    """Router GEMM (2TDE) plus two expert GEMMs per assignment (2DH each)."""
    return 2.0 * T * D * E + 4.0 * D * H * assignments


def backward_flops(T: int, D: int, H: int, E: int, assignments: int) -> float:
    """Router GEMM, its two gradient GEMMs (6TDE), and five GEMMs per assignment (10DH):
    recompute x@w1, then dy@w2^T, dw2 += a^T(g dy), dw1 += x^T dh, dx += dh w1^T."""
    return 6.0 * T * D * E + 10.0 * D * H * assignments


# -- checking ---------------------------------------------------------------------------
def _scalar(value: Any) -> float | None:
    """A Python float from a float/int or a 0-d/size-1 numeric array; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, np.ndarray) and value.size == 1 and value.dtype.kind in "iuf":
        return float(value.reshape(()))
    return None


def _nan_note(got: np.ndarray, expected: np.ndarray) -> str:
    """A first-line hint when the result has NaN or inf where the expected values are finite."""
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(got) & np.isfinite(expected)
    return f" ({int(bad.sum())} NaN/inf where finite values are expected)" if bad.any() else ""


def _flags(got: np.ndarray, expected: np.ndarray) -> list[str]:
    lines = []
    with np.errstate(invalid="ignore"):
        for what, test in (("NaN", np.isnan), ("inf", np.isinf)):
            g, e = bool(test(got).any()), bool(test(expected).any())
            if g != e:
                lines.append(f"{what} in result: {g}, {what} expected: {e}"
                             + (" (an exp that overflowed? subtract the row maximum first)" if g else ""))
    return lines


def _index(shape: tuple[int, ...], flat: int) -> str:
    return str(tuple(int(i) for i in np.unravel_index(flat, shape)))


def compare_scaled(name: str, got: np.ndarray, expected: np.ndarray, *, rtol: float,
                   per_slice: bool = True, marks: dict[int, str] | None = None) -> str | None:
    """|got - expected| <= rtol * scale, scale = the largest |expected| in the same slice along
    axis 0 (per_slice) or in the whole array, but at least SLICE_FLOOR * the whole array's
    largest. NaN and inf must match exactly. `marks` labels rows (axis 0, tokens) whose cause
    the checker knows: dropped by capacity, tied logits."""
    exp = expected.astype(np.float64, copy=False)
    g = got.astype(np.float64, copy=False)
    finite = np.where(np.isfinite(exp), np.abs(exp), 0.0)
    top = float(finite.max()) if finite.size else 0.0
    if per_slice and exp.ndim > 1 and exp.shape[0]:
        scale = finite.reshape(exp.shape[0], -1).max(axis=1)
        scale = np.maximum(scale, SLICE_FLOOR * top).reshape((-1,) + (1,) * (exp.ndim - 1))
    else:
        scale = np.float64(top)
    tol = rtol * scale
    with np.errstate(invalid="ignore"):
        err = np.abs(g - exp)
        same = (g == exp) | (np.isnan(g) & np.isnan(exp))
        bad = ~(same | (err <= tol))
    if not bad.any():
        return None
    idx = np.flatnonzero(bad)
    err_bad = np.where(np.isnan(err), np.inf, err).reshape(-1)[idx]
    worst = int(idx[np.argmax(err_bad)])
    tol_full = np.broadcast_to(tol, exp.shape).reshape(-1)
    scale_full = np.broadcast_to(scale, exp.shape).reshape(-1)
    rel = float(err_bad.max()) / float(scale_full[worst]) if scale_full[worst] else float("inf")
    lines = [f"{name}: {idx.size} of {exp.size} values differ beyond the float32 tolerance"
             f"{_nan_note(g, exp)} (largest error at {_index(exp.shape, worst)}: got {g.reshape(-1)[worst].item()!r}, "
             f"expected {exp.reshape(-1)[worst].item()!r}, tolerance {tol_full[worst]:.3g}; relative error "
             f"{rel:.3g} of the slice's scale, tolerance {rtol:.0e})"]
    lines += _flags(g, exp)
    if not np.any(np.abs(g) > 0) and top > 0:
        lines.append(f"the result is all zeros; the expected values reach {top:.3g}")
    marks = marks or {}
    rows = np.unique(np.unravel_index(idx, exp.shape)[0]) if exp.ndim else np.zeros(0, dtype=np.int64)
    if marks and rows.size:
        for label in sorted(set(marks.values())):
            n = sum(1 for r in rows.tolist() if marks.get(r) == label)
            if n:
                lines.append(f"{n} of the {rows.size} rows that differ are tokens {label}")
    for p in idx[:5]:
        row = int(np.unravel_index(int(p), exp.shape)[0]) if exp.ndim else -1
        mark = f"  [{marks[row]}]" if row in marks else ""
        lines.append(f"  {name}{_index(exp.shape, int(p))}: got {g.reshape(-1)[p].item()!r}, expected "
                     f"{exp.reshape(-1)[p].item()!r}{mark}")
    return "\n".join(lines)


def priority_kept(expert: np.ndarray, C: int | None) -> np.ndarray:
    """(T, k) bool: which assignments fit in capacity C, slots filled by every token's 1st choice
    in token order, then every 2nd choice, ... (a plain loop: run only to explain a failure)."""
    T, k = expert.shape
    kept = np.ones((T, k), dtype=bool)
    if C is None:
        return kept
    used: dict[int, int] = {}
    for j in range(k):
        for t in range(T):
            e = int(expert[t, j])
            used[e] = used.get(e, 0) + 1
            kept[t, j] = used[e] <= C
    return kept


def token_marks(logits: np.ndarray, k: int, capacity_factor: float | None) -> dict[int, str]:
    """Tokens whose rows a diff should point at: those with an assignment dropped by capacity,
    and those whose top k + 1 logits hold a tie (the lower expert index wins it)."""
    z = np.asarray(logits, dtype=np.float64)
    T, E = z.shape
    if T == 0 or k < 1:
        return {}
    expert = np.argsort(-z, axis=1, kind="stable")[:, :k]
    top = -np.sort(-z, axis=1)[:, :min(k + 1, E)]
    tied = (top[:, 1:] == top[:, :-1]).any(axis=1) if top.shape[1] > 1 else np.zeros(T, dtype=bool)
    dropped = ~priority_kept(expert, capacity(capacity_factor, T, k, E)).all(axis=1)
    marks = {int(t): "with tied logits" for t in np.flatnonzero(tied)}
    marks.update({int(t): "dropped by capacity" for t in np.flatnonzero(dropped)})
    return marks


def _array(name: str, value: Any, shape: tuple[int, ...], kinds: str, what: str) -> str | None:
    if not isinstance(value, np.ndarray):
        return f"{name} must be a numpy array of shape {shape}, got {type(value).__name__}"
    if value.shape != shape:
        return f"{name} has shape {value.shape}, expected {shape}"
    if value.dtype.kind not in kinds:
        return f"{name} has dtype {value.dtype}, expected {what}"
    return None


def _tie_note(row: np.ndarray) -> str:
    return " (this token has equal logits: the lower expert index wins)" if np.unique(row).size < row.size else ""


def aux_conventions(logits: np.ndarray, expected: Routing) -> dict[str, float]:
    """The aux loss under the common wrong conventions for f_i, each named by its mistake: what a
    submission's aux_loss is compared with to name the mistake it made (only when it matches)."""
    z = np.asarray(logits, dtype=np.float64)
    T, E = z.shape
    if T == 0:
        return {}
    ez = np.exp(z - z.max(axis=1, keepdims=True))
    P = (ez / ez.sum(axis=1, keepdims=True)).mean(axis=0)
    ex, kept = np.asarray(expected.expert), np.asarray(expected.kept)
    k = ex.shape[1]
    out = {}
    if k > 1:
        out["f_i counts all k choices (T5X/Mixtral); here f_i counts 1st choices only"] = \
            E * float(np.bincount(ex.reshape(-1), minlength=E)[:E] / (T * k) @ P)
        out["f_i counts all k choices over T tokens; here f_i counts 1st choices only"] = \
            E * float(np.bincount(ex.reshape(-1), minlength=E)[:E] / T @ P)
    if not kept[:, 0].all():
        out["f_i counts 1st choices after dropping; here they count before dropping"] = \
            E * float(np.bincount(ex[:, 0][kept[:, 0]], minlength=E)[:E] / T @ P)
    return out


def loss_mismatch(name: str, got: float, want: float, *, rtol: float, atol: float = 0.0,
                  conventions: dict[str, float] | None = None) -> str | None:
    """A scalar loss against the oracle's: None when within atol + rtol * |want|; else a message
    with the relative error and the tolerance, and the name of a known mistake whose value the
    submission's matches (to the same tolerance), only then."""
    tol = atol + rtol * abs(want)
    if abs(got - want) <= tol or got == want:
        return None
    rel = abs(got - want) / abs(want) if want else float("inf")
    hint = ""
    for why, value in (conventions or {}).items():
        if abs(got - value) <= atol + rtol * abs(value) and abs(value - want) > tol:
            hint = f"; it matches the value when {why}"
            break
    return (f"{name} = {got!r}, expected {want!r} (relative error {rel:.3g}, tolerance {rtol:.0e} relative"
            f"{f' + {atol:.0e}' if atol else ''}{hint})")


def check_routing(logits: np.ndarray, k: int, capacity_factor: float | None, expected: Routing,
                  got: Any) -> str | None:
    """A router's answer, field by field, every violated rule listed (experts, capacity, gates,
    losses, then dtypes). The contract fixes every field (ties by the lower index), so expert and
    kept must match exactly; gate and the losses to float64 rounding."""
    T, E = logits.shape
    if not isinstance(got, (tuple, list)) or len(got) != 5:
        return (f"returned {type(got).__name__}"
                f"{f' of length {len(got)}' if isinstance(got, (tuple, list)) else ''}; "
                f"expected Routing(expert, gate, kept, aux_loss, z_loss) or a plain 5-tuple")
    expert, gate, kept, aux, z = got
    rules = Rules()
    ok = {name: not rules.add(STRUCTURE, _array(name, value, (T, k), kinds, what))
          for name, value, kinds, what in (("expert", expert, "iu", "an integer dtype"),
                                           ("gate", gate, "f", "float64"), ("kept", kept, "b", "bool"))}
    if ok["expert"]:
        row_mismatch = np.flatnonzero((expert != expected.expert).any(axis=1))
        if row_mismatch.size:
            lines = [f"expert: {row_mismatch.size} of {T} tokens chose different experts "
                     f"(top-{k} by probability, descending; rank by logit, which is exact: equal logits "
                     f"are the only ties, and the lower expert index wins them)"]
            for t in row_mismatch[:3]:
                row = logits[t]
                shown = np.array2string(row, precision=4, max_line_width=200) if E <= 16 else f"({E} logits)"
                lines.append(f"  token {t}: logits {shown}: got {expert[t].tolist()}, expected "
                             f"{expected.expert[t].tolist()}{_tie_note(row)}")
            rules.add(VALUES, "\n".join(lines))
    if ok["kept"]:
        drop_mismatch = np.argwhere(kept != expected.kept)
        if drop_mismatch.size:
            C = capacity(capacity_factor, T, k, E)
            none_dropped = bool(kept.all()) and not bool(expected.kept.all())
            lines = [f"kept: {len(drop_mismatch)} of {T * k} assignments differ (capacity C = {C} per expert; "
                     f"slots are filled by every token's 1st choice in token order, then every 2nd choice, ...)"
                     + ("; nothing was dropped: is the capacity applied?" if none_dropped else "")]
            for t, j in drop_mismatch[:5]:
                lines.append(f"  token {t}, choice {j + 1} (expert {expected.expert[t, j]}): got {bool(kept[t, j])}, "
                             f"expected {bool(expected.kept[t, j])}")
            rules.add(VALUES, "\n".join(lines))
    if ok["gate"]:
        rules.add(VALUES, _compare_float64("gate", gate.astype(np.float64), expected.gate, atol=1e-12))
        if gate.dtype != np.float64:
            rules.add(DTYPE, f"gate has dtype {gate.dtype}, expected float64 (compute the probabilities in float64)")
    conventions = None
    for name, value, want in (("aux_loss", aux, expected.aux_loss), ("z_loss", z, expected.z_loss)):
        v = _scalar(value)
        if v is None:
            rules.add(STRUCTURE, f"{name} must be a float, got {type(value).__name__}")
            continue
        if name == "aux_loss" and not (abs(v - want) <= 1e-9 * max(1.0, abs(want)) or v == want):
            conventions = aux_conventions(logits, expected)
        rules.add(VALUES, loss_mismatch(name, v, want, rtol=1e-9, atol=1e-9 if abs(want) < 1.0 else 0.0,
                                        conventions=conventions if name == "aux_loss" else None))
    return rules.report()


def _compare_float64(name: str, got: np.ndarray, expected: np.ndarray, *, atol: float,
                     rtol: float = 1e-9) -> str | None:
    with np.errstate(invalid="ignore"):
        bad = ~((np.abs(got - expected) <= atol + rtol * np.abs(expected)) | (got == expected))
    if not bad.any():
        return None
    idx = np.argwhere(bad)
    lines = [f"{name}: {len(idx)} of {expected.size} values differ{_nan_note(got, expected)}",
             *_flags(got, expected)]
    for pos in idx[:5]:
        p = tuple(int(i) for i in pos)
        lines.append(f"  {name}{p}: got {got[p].item()!r}, expected {expected[p].item()!r}")
    return "\n".join(lines)


def _layer_marks(args: tuple) -> dict[int, str]:
    """Token marks for a layer case: x @ w_router is exact on the input grids, so these are the
    oracle's drops and ties."""
    x, w_router, k = args[0], args[1], args[4]
    cf = args[5] if len(args) == 6 else args[6]
    return token_marks(np.asarray(x, dtype=np.float64) @ np.asarray(w_router, dtype=np.float64), int(k), cf)


def check_forward(args: tuple, expected: np.ndarray, got: Any, *,
                  marks: Callable[[tuple], dict[int, str]] | None = None) -> str | None:
    """y (T, D) in the input's float dtype, within FORWARD_RTOL of each token's scale, a wrong
    dtype listed after wrong values; `marks(args)` labels token rows in the diff."""
    x = args[0]
    problem = _array("y", got, x.shape, "f", str(x.dtype))
    if problem:
        return problem
    rules = Rules()
    diff = compare_scaled("y", got, expected, rtol=FORWARD_RTOL)
    if diff and marks is not None:
        diff = compare_scaled("y", got, expected, rtol=FORWARD_RTOL, marks=marks(args))
    rules.add(VALUES, diff)
    if got.dtype != x.dtype:
        rules.add(DTYPE, f"y has dtype {got.dtype}, expected {x.dtype} (the dtype of x)")
    return rules.report()


def check_layer_forward(args: tuple, expected: np.ndarray, got: Any) -> str | None:
    """moe-forward's check: check_forward with the rows of dropped and tied tokens marked."""
    return check_forward(args, expected, got, marks=_layer_marks)


def check_backward(args: tuple, expected: tuple, got: Any) -> str | None:
    """(dx, dw_router, dw1, dw2), each shaped like its parameter, in x's dtype, within
    BACKWARD_RTOL of the scale of each token's row (dx), the whole array (dw_router) or each
    expert's matrix (dw1, dw2). Every gradient that differs is listed (dx's dropped and tied
    tokens marked), dtypes after."""
    x, w_router, w1, w2 = args[:4]
    names = ("dx", "dw_router", "dw1", "dw2")
    if not isinstance(got, (tuple, list)) or len(got) != 4:
        return f"returned {type(got).__name__}; expected a tuple (dx, dw_router, dw1, dw2)"
    rules = Rules()
    marks = None
    for name, g, e, like in zip(names, got, expected, (x, w_router, w1, w2)):
        if rules.add(STRUCTURE, _array(name, g, like.shape, "f", str(x.dtype))):
            continue
        diff = compare_scaled(name, g, e, rtol=BACKWARD_RTOL, per_slice=name != "dw_router")
        if diff and name == "dx":
            marks = _layer_marks(args) if marks is None else marks
            diff = compare_scaled(name, g, e, rtol=BACKWARD_RTOL, marks=marks)
        rules.add(VALUES, diff)
        if g.dtype != x.dtype:
            rules.add(DTYPE, f"{name} has dtype {g.dtype}, expected {x.dtype} (the dtype of x)")
    return rules.report()


def describe_layer(args: tuple) -> str:
    """The shapes and settings of a layer case (the arrays are too big to print usefully)."""
    x, w_router, w1 = args[0], args[1], args[2]
    k, cf = args[4], (args[5] if len(args) == 6 else args[6])
    T, D = x.shape
    E, _, H = w1.shape
    text = f"T={T} tokens, D={D}, H={H}, E={E} experts, k={k}, capacity_factor={cf}"
    if len(args) == 9:
        text += f", aux_coef={args[7]}, z_coef={args[8]}"
    if T * D <= 64:
        with np.printoptions(precision=4, suppress=True, linewidth=120):
            text += f"\nx =\n{x}\nlogits = x @ w_router =\n{x @ w_router}"
    return text


def describe_router(args: tuple) -> str | None:
    logits, k, cf = args
    T, E = logits.shape
    text = f"T={T} tokens, E={E} experts, k={k}, capacity_factor={cf}, logits {logits.dtype}"
    C = capacity(cf, T, k, E)
    if C is not None:
        text += f" -> capacity C = ceil({cf} * {T} * {k} / {E}) = {C}"
    if logits.size <= 96:
        with np.printoptions(precision=5, linewidth=120):
            text += f"\nlogits =\n{logits}"
    return text
