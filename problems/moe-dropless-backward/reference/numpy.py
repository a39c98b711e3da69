"""moe-dropless-backward, NumPy reference (the oracle): the gradients of L = Σ y·dy for
y[t] = Σ_j gate[t, j] · relu(x[t] @ w1[e]) @ w2[e], e = expert[t, j], with the routing
(which experts) fixed and the gates differentiated.

Per expert, on its grouped rows (xs, dys: the gathered token rows; g: each row's gate):
    h = xs @ w1[e]; a = relu(h); da = dys @ w2[e].T         (da: dL/da before the gate)
    dgate = Σ_c a·da  (= the expert's output · dy: no need to form the output)
    dw2[e] = (g·a).T @ dys;  dh = g·da·[h > 0];  dw1[e] = xs.T @ dh;  dxs = dh @ w1[e].T
then dx[t] = Σ_j dxs[inverse[t, j]] and dgate[t, j] = dgate_rows[inverse[t, j]]: gathers, so
a token's k contributions are added without a scatter. Five GEMMs per expert, 10·D·H FLOPs per
assignment (h is recomputed: the forward's activations are not an input).
"""
from __future__ import annotations

import numpy as np


def _dispatch(expert: np.ndarray, E: int):
    """(order, offsets, inverse) as in moe-dispatch."""
    flat = expert.reshape(-1)
    order = np.argsort(flat, kind="stable")
    offsets = np.zeros(E + 1, dtype=np.int64)
    np.cumsum(np.bincount(flat, minlength=E), out=offsets[1:])
    inverse = np.empty(flat.size, dtype=np.int64)
    inverse[order] = np.arange(flat.size)
    return order, offsets, inverse.reshape(expert.shape)


def moe_dropless_backward(x: np.ndarray, expert: np.ndarray, gate: np.ndarray, w1: np.ndarray,
                          w2: np.ndarray, dy: np.ndarray):
    T, D = x.shape
    k = expert.shape[1]
    E = w1.shape[0]
    order, offsets, inverse = _dispatch(expert, E)
    tok = order // k
    xs, dys = x[tok], dy[tok]
    g = gate.reshape(-1)[order].astype(x.dtype)[:, None]  # each grouped row's gate
    dxs = np.empty_like(xs)
    dgate_rows = np.empty(tok.size, dtype=np.float64)
    dw1, dw2 = np.zeros_like(w1), np.zeros_like(w2)  # an expert with no tokens gets no gradient
    for e in range(E):
        lo, hi = offsets[e], offsets[e + 1]
        if hi == lo:
            continue
        h = xs[lo:hi] @ w1[e]
        a = np.maximum(h, 0)
        da = dys[lo:hi] @ w2[e].T
        dgate_rows[lo:hi] = np.einsum("nh,nh->n", a, da)
        dw2[e] = (a * g[lo:hi]).T @ dys[lo:hi]
        da *= g[lo:hi]
        da *= h > 0  # relu'(0) = 0
        dw1[e] = xs[lo:hi].T @ da
        np.matmul(da, w1[e].T, out=dxs[lo:hi])
    dx = np.zeros((T, D), dtype=x.dtype)
    for j in range(k):
        dx += dxs[inverse[:, j]]
    return dx, dgate_rows[inverse], dw1, dw2
