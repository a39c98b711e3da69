"""Shared pieces of the dropless MoE problems (MegaBlocks-style: permute, grouped GEMM, unpermute):
moe-dispatch, grouped-gemm, grouped-gemm-backward, moe-dropless and moe-dropless-backward.

Generators (group sizes and top-k assignments in named mixes: uniform, balanced, skewed, one
expert, few experts), the top-k routing rule of moe-router (so a spec can build realistic gates
without loading a reference), FLOP and byte models, and the checkers. The float inputs reuse
problems/_common/moe.py's grids, so `x @ w` is exact for grid x and grid w whatever the
summation order, and float32 results are compared per slice with moe.compare_scaled.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from problems._common import moe
from problems._common.checks import DTYPE, STRUCTURE, VALUES, Rules, index_array

MIXES = ("uniform", "balanced", "skewed", "one", "few")


# -- generators -------------------------------------------------------------------------
def group_sizes(rng: np.random.Generator, N: int, E: int, mix: str = "uniform") -> np.ndarray:
    """(E,) int64 sizes adding up to N.

    uniform: each row picks a group uniformly at random (multinomial); balanced: N // E each,
    the remainder one each to the first groups; skewed: group 0 holds half (rounded up), the
    others share the rest uniformly; one: group E // 2 holds everything; few: only the first
    max(1, E // 4) groups are used (the others are empty)."""
    if mix == "balanced":
        sizes = np.full(E, N // E, dtype=np.int64)
        sizes[: N % E] += 1
        return sizes
    if mix == "one":
        sizes = np.zeros(E, dtype=np.int64)
        sizes[E // 2] = N
        return sizes
    if mix == "skewed":
        half = (N + 1) // 2
        rest = rng.multinomial(N - half, np.full(E - 1, 1 / (E - 1))) if E > 1 else np.zeros(0, np.int64)
        return np.concatenate([[half if E > 1 else N], rest]).astype(np.int64)
    if mix == "few":
        used = max(1, E // 4)
        sizes = np.zeros(E, dtype=np.int64)
        sizes[:used] = rng.multinomial(N, np.full(used, 1 / used))
        return sizes
    if mix == "uniform":
        return rng.multinomial(N, np.full(E, 1 / E)).astype(np.int64)
    raise ValueError(f"unknown mix {mix!r} (known: {', '.join(MIXES)})")


def grouped_args(rng: np.random.Generator, N: int, D: int, H: int, E: int, mix: str = "uniform") -> tuple:
    """Arguments of grouped_gemm: (x (N, D) float32, group_sizes (E,) int64, w (E, D, H) float32).
    x on moe's 1/8 grid and w on moe.expert_weights' w1 grid: every x @ w[g] is exact."""
    x = (rng.integers(-8, 9, (N, D)) * moe.X_GRID).astype(np.float32)
    w = moe.expert_weights(rng, D, H, E)[0]
    return x, group_sizes(rng, N, E, mix), w


def grouped_backward_args(rng: np.random.Generator, N: int, D: int, H: int, E: int, mix: str = "uniform") -> tuple:
    """Arguments of grouped_gemm_backward: (x, group_sizes, w, dy (N, H) float32)."""
    x, sizes, w = grouped_args(rng, N, D, H, E, mix)
    return x, sizes, w, rng.standard_normal((N, H)).astype(np.float32)


def assignments(rng: np.random.Generator, T: int, E: int, k: int, mix: str = "uniform") -> np.ndarray:
    """(T, k) int64 expert ids, k distinct ones per row, as top-k routing produces them.

    uniform: the first k of a random permutation of the experts; skewed: expert 0 is every
    token's 1st choice (half of all assignments when k = 2); one: k = 1 and every token goes to
    expert E // 2; few: only the first max(k, E // 4) experts are used; balanced: token t takes
    experts (t*k + j) mod E, so every expert gets T*k/E assignments (within one)."""
    if not 1 <= k <= E:
        raise ValueError(f"need 1 <= k <= E, got k={k}, E={E}")
    if mix == "balanced":
        return ((np.arange(T)[:, None] * k + np.arange(k)[None, :]) % E).astype(np.int64)
    if mix == "one":
        if k != 1:
            raise ValueError("mix 'one' sends every token to one expert: k must be 1")
        return np.full((T, 1), E // 2, dtype=np.int64)
    pool = E
    if mix == "few":
        pool = max(k, E // 4)
    elif mix not in ("uniform", "skewed"):
        raise ValueError(f"unknown mix {mix!r} (known: {', '.join(MIXES)})")
    keys = rng.random((T, pool))
    if mix == "skewed":
        keys[:, 0] = 2.0  # sorts first: expert 0 is everyone's 1st choice
    return np.argsort(-keys, axis=1, kind="stable")[:, :k].astype(np.int64)


def topk_routing(logits: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(expert (T, k) int64, gate (T, k) float64) by moe-router's rules, no capacity: float64
    softmax, experts ranked by logit with ties to the lower index, the top-1 gate the raw
    probability, top-k gates (k > 1) renormalised over the k chosen."""
    z = np.asarray(logits, dtype=np.float64)
    T = z.shape[0]
    p = np.exp(z - (z.max(axis=1, keepdims=True) if T else 0.0))
    p /= p.sum(axis=1, keepdims=True)
    expert = np.argsort(-z, axis=1, kind="stable")[:, :k].astype(np.int64)
    gate = np.take_along_axis(p, expert, axis=1)
    if k > 1:
        gate /= gate.sum(axis=1, keepdims=True)
    return expert, gate


def gates_for(rng: np.random.Generator, expert: np.ndarray, E: int) -> np.ndarray:
    """float64 gates for given assignments: the renormalised softmax (k > 1) or the raw top-1
    probability (k = 1) of random logits, made consistent with the ranking (1st choice largest)."""
    T, k = expert.shape
    z = np.sort(rng.standard_normal((T, E)), axis=1)[:, ::-1]  # descending: slot j gets the j-th largest
    p = np.exp(z - (z[:, :1] if T else 0.0))
    p /= p.sum(axis=1, keepdims=True)
    gate = p[:, :k].copy()
    if k > 1:
        gate /= gate.sum(axis=1, keepdims=True)
    return gate


def dropless_args(rng: np.random.Generator, T: int, D: int, H: int, E: int, k: int, routing: str = "router",
                  **layer_options: Any) -> tuple:
    """Arguments of moe_dropless: (x (T, D), expert (T, k) int64, gate (T, k) float64, w1, w2).

    routing "router": expert and gate from moe-router's rules on logits = x @ w_router (the
    grid makes them exact; layer_options such as skew=True go to moe.layer); any mix of
    `assignments` otherwise, with `gates_for` gates."""
    x, w_router, w1, w2 = moe.layer(rng, T, D, H, E, **layer_options)
    if routing == "router":
        expert, gate = topk_routing(x @ w_router, k)
    else:
        expert = assignments(rng, T, E, k, routing)
        gate = gates_for(rng, expert, E)
    return x, expert, gate, w1, w2


def dropless_backward_args(rng: np.random.Generator, T: int, D: int, H: int, E: int, k: int,
                           routing: str = "router", *, zero_rows: bool = False, **layer_options: Any) -> tuple:
    """Arguments of moe_dropless_backward: (x, expert, gate, w1, w2, dy (T, D) float32).
    zero_rows: every third token's x is 0, so its hidden pre-activations are exact zeros (relu'(0) = 0)."""
    x, expert, gate, w1, w2 = dropless_args(rng, T, D, H, E, k, routing, **layer_options)
    if zero_rows:
        x[::3] = 0.0
    return x, expert, gate, w1, w2, moe.upstream_grad(rng, T, D)


# -- models ------------------------------------------------------------------------------
def dispatch_bytes(assignments_: int, experts: int, in_itemsize: int) -> float:
    """The compulsory traffic of a dispatch: read the (T, k) ids once, write order and inverse
    (int64 each) and counts and offsets once. A counting sort reads the ids twice."""
    return float(assignments_ * (in_itemsize + 16) + 8 * (2 * experts + 1))


def grouped_flops(N: int, D: int, H: int) -> float:
    """One (n_g x D) @ (D x H) product per group: 2·N·D·H whatever the split."""
    return 2.0 * N * D * H


def dropless_forward_flops(assignments_: int, D: int, H: int) -> float:
    """Two expert GEMMs per assignment (2·D·H each); no router (its output is an input)."""
    return 4.0 * assignments_ * D * H


def dropless_backward_flops(assignments_: int, D: int, H: int) -> float:
    """Five GEMMs per assignment: recompute x@w1, dy@w2^T, dw2, dw1, dx (2·D·H each)."""
    return 10.0 * assignments_ * D * H


# -- checking ----------------------------------------------------------------------------
def _int_array(name: str, value: Any, shape: tuple[int, ...]) -> str | None:
    """The container and shape of an index output (its dtype is a separate, later rule)."""
    if not isinstance(value, np.ndarray):
        return f"{name} must be a numpy array of shape {shape}, got {type(value).__name__}"
    if value.shape != shape:
        return f"{name} has shape {value.shape}, expected {shape}"
    if value.dtype.kind not in "iu":
        return f"{name} has dtype {value.dtype}, expected int32 or int64 (an index array)"
    return None


def _first_diff(name: str, got: np.ndarray, want: np.ndarray, limit: int = 5) -> list[str]:
    bad = np.argwhere(got != want)
    lines = [f"{name}: {len(bad)} of {want.size} entries differ"]
    for pos in bad[:limit]:
        p = tuple(int(i) for i in pos)
        lines.append(f"  {name}{list(p) if len(p) > 1 else f'[{p[0]}]'}: got {got[p]}, expected {want[p]}")
    return lines


def check_dispatch(args: tuple, expected: tuple, got: Any) -> str | None:
    """(order, counts, offsets, inverse), exactly. The contract fixes every entry (stable: by
    assignment index a = t·k + j within an expert), so the check is equality, but the message
    names every rule that broke (counts, offsets, not a permutation, not grouped, not stable,
    inverse not inverse), index dtypes last: int32 or int64, int64 when T·k needs it."""
    expert, E = args
    T, k = expert.shape
    n = T * k
    if not isinstance(got, (tuple, list)) or len(got) != 4:
        return (f"returned {type(got).__name__}"
                f"{f' of length {len(got)}' if isinstance(got, (tuple, list)) else ''}; "
                f"expected a 4-tuple (order, counts, offsets, inverse)")
    order, counts, offsets, inverse = got
    rules = Rules()
    for name, value, shape in (("order", order, (n,)), ("counts", counts, (E,)), ("offsets", offsets, (E + 1,)),
                               ("inverse", inverse, (T, k))):
        problem = _int_array(name, value, shape)
        if problem and problem.startswith("offsets has shape") and offsets.shape == (E,):
            problem += " (offsets has E + 1 entries: offsets[0] = 0 and offsets[E] = T·k)"
        if problem and problem.startswith("counts has shape") and counts.ndim == 1 and counts.size < E:
            problem += " (every expert has a count, 0 for one that receives nothing: bincount needs minlength=E)"
        rules.add(STRUCTURE, problem)
    if rules:
        return rules.report()
    want_order, want_counts, want_offsets, want_inverse = expected
    flat = expert.reshape(-1)
    if not np.array_equal(counts, want_counts):
        rules.add(VALUES, "\n".join(["counts: wrong number of assignments per expert"
                                     + (" (an expert with no assignments still has a count, 0)"
                                        if (want_counts == 0).any() else "")]
                                    + _first_diff("counts", counts, want_counts)[1:]))
    if not np.array_equal(offsets, want_offsets):
        hint = (" (offsets are the exclusive prefix sum: offsets[0] = 0, offsets[e+1] = offsets[e] + counts[e])"
                if n else "")
        rules.add(VALUES, "\n".join([f"offsets: wrong group bounds{hint}"]
                                    + _first_diff("offsets", offsets, want_offsets)[1:]))
    if not np.array_equal(np.sort(order), np.arange(n)):
        rules.add(STRUCTURE, "order is not a permutation of the assignment indices 0 .. T·k-1 (a = t·k + j)")
    elif not np.array_equal(order, want_order):
        by_expert = flat[order]
        if not np.array_equal(by_expert, np.sort(flat, kind="stable")):
            p = int(np.flatnonzero(by_expert != np.sort(flat, kind="stable"))[0])
            rules.add(STRUCTURE, "\n".join([f"order does not group the assignments by expert (ascending): position "
                                            f"{p} holds assignment {order[p]} of expert {by_expert[p]}"]
                                           + _first_diff("order", order, want_order)[1:]))
        else:
            e = int(flat[order[np.flatnonzero(order != want_order)[0]]])
            lo, hi = int(want_offsets[e]), int(want_offsets[e + 1])
            group = order[lo:hi]
            tokens = (group // k).tolist()[:8]
            rules.add(STRUCTURE, "\n".join([f"order groups by expert but is not stable: within expert {e} the "
                                            f"assignments must come in ascending assignment index a = t·k + j (so "
                                            f"in token order), got tokens {tokens}{' ...' if hi - lo > 8 else ''}"]
                                           + _first_diff("order", order, want_order)[1:]))
    if not np.array_equal(inverse, want_inverse):
        lines = ["inverse is not the inverse of order: inverse[t, j] must be the position p with "
                 "order[p] = t·k + j"]
        if n and np.array_equal(inverse.reshape(-1), order):
            lines[0] += " (you returned order itself)"
        rules.add(VALUES, "\n".join(lines + _first_diff("inverse", inverse, want_inverse)[1:]))
    wide = n > np.iinfo(np.int32).max
    for name, value in (("order", order), ("counts", counts), ("offsets", offsets), ("inverse", inverse)):
        rules.add(DTYPE, index_array(name, value, wide))
    return rules.report()


def check_grouped(args: tuple, expected: np.ndarray, got: Any) -> str | None:
    """y (N, H) in x's dtype, within moe.FORWARD_RTOL of each row's scale; values before dtype."""
    x, w = args[0], args[2]
    shape = (x.shape[0], w.shape[2])
    if not isinstance(got, np.ndarray):
        return f"y must be a numpy array of shape {shape}, got {type(got).__name__}"
    if got.shape != shape:
        return f"y has shape {got.shape}, expected {shape} (N rows, H columns)"
    rules = Rules()
    if got.dtype.kind in "fiu":
        rules.add(VALUES, moe.compare_scaled("y", got, expected, rtol=moe.FORWARD_RTOL))
    if got.dtype != x.dtype:
        rules.add(DTYPE, f"y has dtype {got.dtype}, expected {x.dtype} (the dtype of x)")
    return rules.report()


def _float_outputs(names: tuple[str, ...], got: Any, expected: tuple, likes: tuple[np.ndarray, ...],
                   dtypes: tuple[np.dtype, ...], rtol: float) -> str | None:
    """A tuple of float arrays shaped like their parameters: every array whose values differ
    (within rtol of its slice's scale), then every wrong dtype."""
    if not isinstance(got, (tuple, list)) or len(got) != len(names):
        return f"returned {type(got).__name__}; expected a tuple ({', '.join(names)})"
    rules = Rules()
    for name, g, e, like, dtype in zip(names, got, expected, likes, dtypes):
        if not isinstance(g, np.ndarray):
            rules.add(STRUCTURE, f"{name} must be a numpy array of shape {like.shape}, got {type(g).__name__}")
            continue
        if g.shape != like.shape:
            rules.add(STRUCTURE, f"{name} has shape {g.shape}, expected {like.shape} (the shape of its parameter)")
            continue
        if g.dtype.kind in "fiu":
            rules.add(VALUES, moe.compare_scaled(name, g, e, rtol=rtol))
        if g.dtype != dtype:
            rules.add(DTYPE, f"{name} has dtype {g.dtype}, expected {dtype} (the dtype of its parameter)")
    return rules.report()


def check_grouped_backward(args: tuple, expected: tuple, got: Any) -> str | None:
    """(dx, dw): dx per row, dw per group's matrix, within moe.FORWARD_RTOL (plain GEMM sums:
    rounding is ~1e-6 of the slice's scale); an empty group's dw must be zeros."""
    x, _, w = args[:3]
    return _float_outputs(("dx", "dw"), got, expected, (x, w), (x.dtype, x.dtype), moe.FORWARD_RTOL)


def check_dropless_backward(args: tuple, expected: tuple, got: Any) -> str | None:
    """(dx, dgate, dw1, dw2): dgate float64 (the gate's dtype), the others x's dtype; each within
    moe.BACKWARD_RTOL of its slice's scale (a token's row, an expert's matrix)."""
    x, expert, gate, w1, w2 = args[:5]
    names = ("dx", "dgate", "dw1", "dw2")
    return _float_outputs(names, got, expected, (x, gate, w1, w2), (x.dtype, gate.dtype, x.dtype, x.dtype),
                          moe.BACKWARD_RTOL)


def describe_grouped(args: tuple) -> str:
    x, sizes, w = args[:3]
    N, D = x.shape
    E, _, H = w.shape
    text = f"N={N} rows, D={D}, H={H}, E={E} groups, group_sizes={sizes.tolist() if sizes.size <= 16 else '...'}"
    if N * D <= 32:
        with np.printoptions(precision=4, suppress=True, linewidth=120):
            text += f"\nx =\n{x}"
    return text


def describe_dispatch(args: tuple) -> str:
    expert, E = args
    T, k = expert.shape
    text = f"T={T} tokens, k={k}, E={E} experts (T·k = {T * k} assignments)"
    if expert.size <= 48:
        text += f"\nexpert =\n{expert}"
    return text


def describe_dropless(args: tuple) -> str:
    x, expert, gate, w1 = args[:4]
    T, D = x.shape
    E, _, H = w1.shape
    k = expert.shape[1]
    counts = np.bincount(expert.reshape(-1), minlength=E) if expert.size else np.zeros(E, np.int64)
    text = f"T={T} tokens, D={D}, H={H}, E={E} experts, k={k}; assignments per expert {counts.tolist()[:16]}"
    if T * D <= 32:
        with np.printoptions(precision=4, suppress=True, linewidth=120):
            text += f"\nx =\n{x}\nexpert =\n{expert}\ngate =\n{gate}"
    return text
