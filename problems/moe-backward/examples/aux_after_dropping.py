# expected-verdict: WA
"""Honest mistake: the load-balancing term counts f_i over the kept 1st choices only, so
the gradient pushing tokens away from an overloaded expert is too weak exactly when it
overflows. f must count 1st choices before dropping."""
import math

import numpy as np


def _route(logits: np.ndarray, k: int, capacity_factor: float | None):
    """(expert, gate, kept, probs, lse) as in moe-router."""
    z = logits.astype(np.float64)
    T, E = z.shape
    m = z.max(axis=1, keepdims=True) if T else np.zeros((0, 1))
    probs = np.exp(z - m)
    s = probs.sum(axis=1, keepdims=True)
    probs /= s
    lse = m[:, 0] + np.log(s[:, 0])
    expert = np.argsort(-z, axis=1, kind="stable")[:, :k]  # by logit; ties -> lower index
    gate = np.take_along_axis(probs, expert, axis=1)
    if k > 1:
        gate /= gate.sum(axis=1, keepdims=True)
    kept = np.ones((T, k), dtype=bool)
    if capacity_factor is not None:
        C = math.ceil(capacity_factor * T * k / E)
        queue = expert.T.reshape(-1)  # priority order: all 1st choices, then all 2nd, ...
        by_expert = np.argsort(queue, kind="stable")
        sorted_e = queue[by_expert]
        rank = np.empty(queue.size, dtype=np.int64)
        rank[by_expert] = np.arange(queue.size) - np.searchsorted(sorted_e, sorted_e, side="left")
        kept = (rank < C).reshape(k, T).T
    return expert, gate, kept, probs, lse


def _router_grad(probs, lse, expert, gate, dgate, aux_coef, z_coef, kept):
    """dL/dlogits (T, E) in float64 from dL/dgate and the two auxiliary losses."""
    T, E = probs.shape
    k = expert.shape[1]
    if k == 1:
        dtop = dgate
    else:  # gate_j = p_j / S  =>  dp_j = (dgate_j - sum_i dgate_i gate_i) / S
        S = np.take_along_axis(probs, expert, axis=1).sum(axis=1, keepdims=True)
        dtop = (dgate - (dgate * gate).sum(axis=1, keepdims=True)) / S
    dprobs = np.zeros((T, E))
    np.put_along_axis(dprobs, expert, dtop, axis=1)  # a token's k experts are distinct
    if T:
        f = np.bincount(expert[kept[:, 0], 0], minlength=E) / T  # the bug: after dropping
        dprobs += aux_coef * E * f / T  # aux = E sum_i f_i mean_t p_ti
    dlogits = probs * (dprobs - (dprobs * probs).sum(axis=1, keepdims=True))
    if T:
        dlogits += (z_coef * 2.0 / T) * lse[:, None] * probs  # d lse / d logits = probs
    return dlogits


def moe_backward(x: np.ndarray, w_router: np.ndarray, w1: np.ndarray, w2: np.ndarray, k: int,
                 dy: np.ndarray, capacity_factor: float | None = None, aux_coef: float = 0.01,
                 z_coef: float = 0.001) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    T, D = x.shape
    E = w1.shape[0]
    expert, gate, kept, probs, lse = _route(x @ w_router, k, capacity_factor)
    tok, slot = np.nonzero(kept)
    chosen = expert[tok, slot]
    order = np.argsort(chosen, kind="stable")
    tok, slot = tok[order], slot[order]
    g = gate[tok, slot].astype(x.dtype)[:, None]
    bounds = np.searchsorted(chosen[order], np.arange(E + 1))
    dx, dw1, dw2 = np.zeros_like(x), np.zeros_like(w1), np.zeros_like(w2)
    dgate = np.zeros((T, k))  # dropped assignments: no output, no gradient
    for e in range(E):
        lo, hi = bounds[e], bounds[e + 1]
        if lo == hi:
            continue
        rows = tok[lo:hi]
        xs, dys = x[rows], dy[rows]
        h = xs @ w1[e]
        a = np.maximum(h, 0)
        da = dys @ w2[e].T
        dgate[rows, slot[lo:hi]] = np.einsum("nh,nh->n", a, da)
        dw2[e] = a.T @ (dys * g[lo:hi])
        da *= g[lo:hi]
        da *= h > 0  # relu'(0) = 0; a multiply is ~10x faster than a masked store
        dw1[e] = xs.T @ da
        dx[rows] += da @ w1[e].T
    dlogits = _router_grad(probs, lse, expert, gate, dgate, aux_coef, z_coef, kept)
    dw_router = (x.T.astype(np.float64) @ dlogits).astype(x.dtype)
    dx += (dlogits @ w_router.T.astype(np.float64)).astype(x.dtype)
    return dx, dw_router, dw1, dw2
