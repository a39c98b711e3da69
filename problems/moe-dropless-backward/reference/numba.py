"""moe-dropless-backward, Numba reference (the speed yardstick).

Five BLAS GEMMs per expert (10·D·H FLOPs per assignment) on slices of preallocated grouped
buffers; the rest in single compiled passes: the dispatch with the gather of x and dy fused
into it (moe-dispatch's counting sort), one branch-free pass over each expert's hidden layer
(relu, the gate gradient Σ a·da, the relu mask and the gate scaling, in place: no
temporaries), and the combine of dx and dgate as gathers over each token's k rows.
"""
from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def _dispatch_gather(x, dy, expert, gate, E):
    """Grouped copies of x and dy, each grouped row's gate, the row of every assignment, offsets."""
    T, k = expert.shape
    D = x.shape[1]
    offsets = np.zeros(E + 1, dtype=np.int64)
    for t in range(T):
        for j in range(k):
            offsets[expert[t, j] + 1] += 1
    for e in range(E):
        offsets[e + 1] += offsets[e]
    cursor = offsets[:-1].copy()
    row = np.empty((T, k), dtype=np.int64)
    xs = np.empty((T * k, D), dtype=x.dtype)
    dys = np.empty((T * k, D), dtype=x.dtype)
    gs = np.empty(T * k, dtype=x.dtype)
    for t in range(T):
        for j in range(k):
            e = expert[t, j]
            p = cursor[e]
            cursor[e] = p + 1
            row[t, j] = p
            gs[p] = x.dtype.type(gate[t, j])
            for d in range(D):
                xs[p, d] = x[t, d]
                dys[p, d] = dy[t, d]
    return xs, dys, gs, row, offsets


@numba.njit(cache=True, fastmath={"reassoc", "contract"})
def _hidden(h, da, gs, dgate_rows, lo):
    """In place, per row i: dgate = Σ relu(h)·da; da <- g·da·[h > 0]; h <- g·relu(h).
    Branch-free selects and a reassociated sum, so it vectorises."""
    n, H = h.shape
    zero = h.dtype.type(0)
    for i in range(n):
        g = gs[lo + i]
        acc = zero
        for c in range(H):
            a = max(h[i, c], zero)
            acc += a * da[i, c]
            da[i, c] = g * da[i, c] if h[i, c] > zero else zero
            h[i, c] = g * a
        dgate_rows[lo + i] = acc


@numba.njit(cache=True)
def _experts(xs, dys, gs, offsets, w1, w2, hs, das, dxs, dgate_rows, dw1, dw2):
    for e in range(w1.shape[0]):
        lo, hi = offsets[e], offsets[e + 1]
        if hi == lo:
            dw1[e] = 0.0
            dw2[e] = 0.0
            continue
        h, da = hs[lo:hi], das[lo:hi]
        np.dot(xs[lo:hi], w1[e], h)
        np.dot(dys[lo:hi], w2[e].T, da)
        _hidden(h, da, gs, dgate_rows, lo)  # h -> g·a, da -> dh
        np.dot(h.T, dys[lo:hi], dw2[e])
        np.dot(xs[lo:hi].T, da, dw1[e])
        np.dot(da, w1[e].T, dxs[lo:hi])


@numba.njit(cache=True)
def _combine(dxs, dgate_rows, row, dx, dgate):
    T, k = row.shape
    D = dx.shape[1]
    for t in range(T):
        for d in range(D):
            dx[t, d] = 0
        for j in range(k):
            p = row[t, j]
            dgate[t, j] = dgate_rows[p]
            for d in range(D):
                dx[t, d] += dxs[p, d]


def moe_dropless_backward(x: np.ndarray, expert: np.ndarray, gate: np.ndarray, w1: np.ndarray,
                          w2: np.ndarray, dy: np.ndarray):
    T, D = x.shape
    k = expert.shape[1]
    E, _, H = w1.shape
    xs, dys, gs, row, offsets = _dispatch_gather(np.ascontiguousarray(x), np.ascontiguousarray(dy),
                                                 np.ascontiguousarray(expert), np.ascontiguousarray(gate), E)
    n = T * k
    hs = np.empty((n, H), dtype=x.dtype)
    das = np.empty((n, H), dtype=x.dtype)
    dxs = np.empty((n, D), dtype=x.dtype)
    dgate_rows = np.empty(n, dtype=np.float64)
    dw1 = np.empty_like(w1)
    dw2 = np.empty_like(w2)
    if n and D and H:
        _experts(xs, dys, gs, offsets, np.ascontiguousarray(w1), np.ascontiguousarray(w2), hs, das, dxs, dgate_rows,
                 dw1, dw2)
    else:
        dxs[:] = 0
        dgate_rows[:] = 0
        dw1[:] = 0
        dw2[:] = 0
    dx = np.empty((T, D), dtype=x.dtype)
    dgate = np.empty((T, k), dtype=np.float64)
    _combine(dxs, dgate_rows, row, dx, dgate)
    return dx, dgate, dw1, dw2
