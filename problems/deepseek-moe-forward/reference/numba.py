"""deepseek-moe-forward, Numba reference (the speed yardstick).

The expert GEMMs are the work and stay in BLAS through NumPy: one GEMM pair plus one GEMM over
all tokens for the shared experts (concatenated along the hidden axis), and per routed expert
the same on its gathered tokens. Numba does the passes between them without (T, E)
temporaries or sorts: the DeepSeek-V3 router (deepseek-router's one-pass version), the dispatch
(a counting sort of the T*k assignments by expert), the SwiGLU nonlinearity in place, and the
combine (a scatter-add of each expert's gated outputs).
"""
from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True)
def _insert(keys, order, n, cap, key, item):
    if n == cap and not key > keys[order[cap - 1]]:
        return n
    i = min(n, cap - 1)
    while i > 0 and key > keys[order[i - 1]]:
        order[i] = order[i - 1]
        i -= 1
    order[i] = item
    return min(n + 1, cap)


@numba.njit(cache=True)
def _route(z, b, k, G, M, expert, gate):
    """deepseek-router's expert and (unscaled) gate; z is float64."""
    T, E = z.shape
    n = E // G
    s = np.empty(E)
    q = np.empty(E)
    group_score = np.empty(G)
    groups = np.empty(M, dtype=np.int64)
    allowed = np.zeros(G, dtype=np.bool_)
    for t in range(T):
        for e in range(E):
            v = z[t, e]
            if v >= 0.0:
                s[e] = 1.0 / (1.0 + math.exp(-v))
            else:
                w = math.exp(v)
                s[e] = w / (1.0 + w)
            q[e] = s[e] + b[e]
        if G > 1:
            for g in range(G):
                a1 = -np.inf
                a2 = -np.inf
                for e in range(g * n, (g + 1) * n):
                    if q[e] > a1:
                        a2 = a1
                        a1 = q[e]
                    elif q[e] > a2:
                        a2 = q[e]
                group_score[g] = a1 + a2
            m = 0
            for g in range(G):
                m = _insert(group_score, groups, m, M, group_score[g], g)
            allowed[:] = False
            for i in range(M):
                allowed[groups[i]] = True
        m = 0
        for e in range(E):
            if G == 1 or allowed[e // n]:
                m = _insert(q, expert[t], m, k, q[e], e)
        total = 0.0
        for j in range(k):
            total += s[expert[t, j]]
        for j in range(k):
            gate[t, j] = s[expert[t, j]] / total


@numba.njit(cache=True)
def _dispatch(expert, gate, E, scale, probe):
    """Assignments grouped by expert, token order within a group: token ids, scaled gates in the
    activations' dtype, group bounds (a counting sort)."""
    T, k = expert.shape
    bounds = np.zeros(E + 1, dtype=np.int64)
    for t in range(T):
        for j in range(k):
            bounds[expert[t, j] + 1] += 1
    for e in range(E):
        bounds[e + 1] += bounds[e]
    nxt = bounds[:-1].copy()
    rows = np.empty(T * k, dtype=np.int64)
    g = np.empty(T * k, dtype=probe.dtype)
    for t in range(T):
        for j in range(k):
            e = expert[t, j]
            rows[nxt[e]] = t
            g[nxt[e]] = gate[t, j] * scale
            nxt[e] += 1
    return rows, g, bounds


@numba.njit(cache=True)
def _silu_mul(h, u):
    """h <- silu(h) * u, in place."""
    for i in range(h.shape[0]):
        for j in range(h.shape[1]):
            a = h[i, j]
            h[i, j] = a / (1.0 + math.exp(-a)) * u[i, j]


@numba.njit(cache=True)
def _combine(y, rows, g, out):
    """y[rows[i]] += g[i] * out[i]."""
    D = y.shape[1]
    for i in range(rows.size):
        t = rows[i]
        gi = g[i]
        for d in range(D):
            y[t, d] += gi * out[i, d]


def _swiglu(x, w_gate, w_up, w_down):
    h = x @ w_gate
    _silu_mul(h, x @ w_up)
    return h @ w_down


def deepseek_moe_forward(x: np.ndarray, w_router: np.ndarray, bias: np.ndarray, shared: tuple, routed: tuple,
                         k: int, n_groups: int, top_groups: int, route_scale: float) -> np.ndarray:
    T, D = x.shape
    sg, su, sd = shared
    rg, ru, rd = routed
    E = rg.shape[0]
    if sg.shape[0] and T:
        y = _swiglu(x, np.ascontiguousarray(sg.transpose(1, 0, 2)).reshape(D, -1),
                    np.ascontiguousarray(su.transpose(1, 0, 2)).reshape(D, -1), sd.reshape(-1, D))
    else:
        y = np.zeros((T, D), dtype=x.dtype)
    expert = np.empty((T, k), dtype=np.int64)
    gate = np.empty((T, k), dtype=np.float64)
    _route(np.ascontiguousarray(x @ w_router, dtype=np.float64), np.ascontiguousarray(bias, dtype=np.float64),
           k, n_groups, top_groups, expert, gate)
    rows, g, bounds = _dispatch(expert, gate, E, float(route_scale), np.zeros(0, dtype=x.dtype))
    for e in range(E):
        lo, hi = bounds[e], bounds[e + 1]
        if lo == hi:
            continue
        _combine(y, rows[lo:hi], g[lo:hi], _swiglu(np.take(x, rows[lo:hi], axis=0), rg[e], ru[e], rd[e]))
    return y
