"""moe-forward, Numba reference (the speed yardstick).

The expert GEMMs are the work (4·D·H per kept assignment) and stay in BLAS through NumPy.
Numba does the parts between them in single passes, with no (T, E) temporaries and no
sort: the router (softmax and top-k per token, then capacity in priority order), the
dispatch (a counting sort of the kept assignments by expert), and the combine (a
scatter-add of each expert's gated outputs into y).
"""
from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True)
def _route(z, k, C, expert, gate, kept):
    """moe-router's expert/gate/kept (C < 0: no capacity). Ranks by logit, lower index on ties."""
    T, E = z.shape
    p = np.empty(E)
    for t in range(T):
        m = z[t, 0]
        for e in range(1, E):
            if z[t, e] > m:
                m = z[t, e]
        s = 0.0
        for e in range(E):
            p[e] = math.exp(z[t, e] - m)
            s += p[e]
        n = 0
        for e in range(E):
            if n == k and not z[t, e] > z[t, expert[t, k - 1]]:
                continue
            i = min(n, k - 1)
            while i > 0 and z[t, e] > z[t, expert[t, i - 1]]:
                expert[t, i] = expert[t, i - 1]
                i -= 1
            expert[t, i] = e
            n = min(n + 1, k)
        total = s
        if k > 1:
            total = 0.0
            for j in range(k):
                total += p[expert[t, j]]
        for j in range(k):
            gate[t, j] = p[expert[t, j]] / total
    fill = np.zeros(E, dtype=np.int64)
    for j in range(k):
        for t in range(T):
            e = expert[t, j]
            kept[t, j] = C < 0 or fill[e] < C
            fill[e] += 1


@numba.njit(cache=True)
def _dispatch(expert, gate, kept, E, dtype_probe):
    """Kept assignments grouped by expert (token order within a group): token ids, gates
    (in the activations' dtype) and group bounds."""
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
    g = np.empty(bounds[E], dtype=dtype_probe.dtype)
    for t in range(T):
        for j in range(k):
            if kept[t, j]:
                e = expert[t, j]
                rows[nxt[e]] = t
                g[nxt[e]] = gate[t, j]
                nxt[e] += 1
    return rows, g, bounds


@numba.njit(cache=True)
def _combine(y, rows, g, out):
    """y[rows[i]] += g[i] * out[i]."""
    D = y.shape[1]
    for i in range(rows.size):
        t = rows[i]
        gi = g[i]
        for d in range(D):
            y[t, d] += gi * out[i, d]


def moe_forward(x: np.ndarray, w_router: np.ndarray, w1: np.ndarray, w2: np.ndarray, k: int,
                capacity_factor: float | None = None) -> np.ndarray:
    T, D = x.shape
    E = w1.shape[0]
    C = -1 if capacity_factor is None else math.ceil(capacity_factor * T * k / E)
    expert = np.empty((T, k), dtype=np.int32)
    gate = np.empty((T, k), dtype=np.float64)
    kept = np.empty((T, k), dtype=np.bool_)
    _route(np.ascontiguousarray(x @ w_router, dtype=np.float64), k, C, expert, gate, kept)
    rows, g, bounds = _dispatch(expert, gate, kept, E, np.zeros(0, dtype=x.dtype))
    y = np.zeros((T, D), dtype=x.dtype)
    for e in range(E):
        lo, hi = bounds[e], bounds[e + 1]
        if lo == hi:
            continue
        h = np.take(x, rows[lo:hi], axis=0) @ w1[e]
        np.maximum(h, 0, out=h)
        _combine(y, rows[lo:hi], g[lo:hi], h @ w2[e])
    return y
