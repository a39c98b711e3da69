"""moe-backward, Numba reference (the speed yardstick).

Five BLAS GEMMs per expert (10·D·H per kept assignment) do the work. Numba does the rest
in single passes: the router (softmax, top-k, capacity), the dispatch (counting sort of
the kept assignments by expert), one fused pass over each expert's hidden layer (relu,
the gate gradient sum(a * da), the relu mask and the gate scaling, with no temporaries),
the scatter-add of dx, and the router's backward (gate -> probabilities -> logits,
plus the aux- and z-loss terms) token by token in float64.
"""
from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True)
def _route(z, k, C, expert, gate, kept, probs, lse):
    """moe-router's expert/gate/kept, plus the probabilities and logsumexp of each token."""
    T, E = z.shape
    for t in range(T):
        m = z[t, 0]
        for e in range(1, E):
            if z[t, e] > m:
                m = z[t, e]
        s = 0.0
        for e in range(E):
            probs[t, e] = math.exp(z[t, e] - m)
            s += probs[t, e]
        lse[t] = m + math.log(s)
        for e in range(E):
            probs[t, e] /= s
        n = 0  # top-k by logit; strict > keeps the lower index on a tie
        for e in range(E):
            if n == k and not z[t, e] > z[t, expert[t, k - 1]]:
                continue
            i = min(n, k - 1)
            while i > 0 and z[t, e] > z[t, expert[t, i - 1]]:
                expert[t, i] = expert[t, i - 1]
                i -= 1
            expert[t, i] = e
            n = min(n + 1, k)
        total = 1.0
        if k > 1:
            total = 0.0
            for j in range(k):
                total += probs[t, expert[t, j]]
        for j in range(k):
            gate[t, j] = probs[t, expert[t, j]] / total
    fill = np.zeros(E, dtype=np.int64)
    for j in range(k):
        for t in range(T):
            e = expert[t, j]
            kept[t, j] = C < 0 or fill[e] < C
            fill[e] += 1


@numba.njit(cache=True)
def _dispatch(expert, kept, E):
    """Kept assignments grouped by expert (token order within a group): tokens, slots, bounds."""
    T, k = expert.shape
    bounds = np.zeros(E + 1, dtype=np.int64)
    for t in range(T):
        for j in range(k):
            if kept[t, j]:
                bounds[expert[t, j] + 1] += 1
    for e in range(E):
        bounds[e + 1] += bounds[e]
    nxt = bounds[:-1].copy()
    rows = np.empty(bounds[E], dtype=np.int64)
    slots = np.empty(bounds[E], dtype=np.int64)
    for t in range(T):
        for j in range(k):
            if kept[t, j]:
                e = expert[t, j]
                rows[nxt[e]] = t
                slots[nxt[e]] = j
                nxt[e] += 1
    return rows, slots, bounds


@numba.njit(cache=True, fastmath={"reassoc", "contract"})
def _hidden_backward(h, da, rows, slots, gate, dgate):
    """In place, per row i: dgate = sum(relu(h) * da); da <- g * da * (h > 0); h <- g * relu(h).
    Branch-free (selects, not ifs: the sign of h is a coin flip) and reassociated, so it
    vectorises; it would otherwise cost as much as one of the GEMMs."""
    n, H = h.shape
    zero = h.dtype.type(0)
    for i in range(n):
        g = h.dtype.type(gate[rows[i], slots[i]])
        acc = zero
        for c in range(H):
            a = max(h[i, c], zero)
            acc += a * da[i, c]
            da[i, c] = g * da[i, c] if h[i, c] > zero else zero
            h[i, c] = g * a
        dgate[rows[i], slots[i]] = acc


@numba.njit(cache=True)
def _scatter_add(dst, rows, src):
    for i in range(rows.size):
        t = rows[i]
        for d in range(dst.shape[1]):
            dst[t, d] += src[i, d]


@numba.njit(cache=True)
def _router_backward(probs, lse, expert, gate, dgate, aux_coef, z_coef):
    """dL/dlogits (T, E): gate -> probabilities (renormalised for k > 1), + aux term with f
    fixed (1st choices), softmax backward, + z-loss term."""
    T, E = probs.shape
    k = expert.shape[1]
    first = np.zeros(E)
    for t in range(T):
        first[expert[t, 0]] += 1.0
    aux_term = np.empty(E)
    for e in range(E):
        aux_term[e] = aux_coef * E * (first[e] / T) / T
    dlogits = np.empty((T, E))
    dp = np.empty(E)
    for t in range(T):
        for e in range(E):
            dp[e] = aux_term[e]
        if k == 1:
            dp[expert[t, 0]] += dgate[t, 0]
        else:
            s = 0.0
            mix = 0.0
            for j in range(k):
                s += probs[t, expert[t, j]]
                mix += dgate[t, j] * gate[t, j]
            for j in range(k):
                dp[expert[t, j]] += (dgate[t, j] - mix) / s
        dot = 0.0
        for e in range(E):
            dot += dp[e] * probs[t, e]
        zt = z_coef * 2.0 / T * lse[t]
        for e in range(E):
            dlogits[t, e] = probs[t, e] * (dp[e] - dot + zt)
    return dlogits


def moe_backward(x: np.ndarray, w_router: np.ndarray, w1: np.ndarray, w2: np.ndarray, k: int,
                 dy: np.ndarray, capacity_factor: float | None = None, aux_coef: float = 0.01,
                 z_coef: float = 0.001) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    T, D = x.shape
    E = w1.shape[0]
    C = -1 if capacity_factor is None else math.ceil(capacity_factor * T * k / E)
    expert = np.empty((T, k), dtype=np.int32)
    gate = np.empty((T, k))
    kept = np.empty((T, k), dtype=np.bool_)
    probs = np.empty((T, E))
    lse = np.empty(T)
    _route(np.ascontiguousarray(x @ w_router, dtype=np.float64), k, C, expert, gate, kept, probs, lse)
    rows, slots, bounds = _dispatch(expert, kept, E)
    dx, dw1, dw2 = np.zeros_like(x), np.zeros_like(w1), np.zeros_like(w2)
    dgate = np.zeros((T, k))
    for e in range(E):
        lo, hi = bounds[e], bounds[e + 1]
        if lo == hi:
            continue
        xs = np.take(x, rows[lo:hi], axis=0)
        dys = np.take(dy, rows[lo:hi], axis=0)
        h = xs @ w1[e]
        da = dys @ w2[e].T
        _hidden_backward(h, da, rows[lo:hi], slots[lo:hi], gate, dgate)  # h -> g·a, da -> dh
        np.matmul(h.T, dys, out=dw2[e])
        np.matmul(xs.T, da, out=dw1[e])
        _scatter_add(dx, rows[lo:hi], da @ w1[e].T)
    if T == 0:
        return dx, np.zeros_like(w_router), dw1, dw2
    dlogits = _router_backward(probs, lse, expert, gate, dgate, aux_coef, z_coef)
    dlogits = dlogits.astype(x.dtype)  # small next to the expert terms: the activations' precision will do
    dw_router = x.T @ dlogits
    dx += dlogits @ w_router.T
    return dx, dw_router, dw1, dw2
