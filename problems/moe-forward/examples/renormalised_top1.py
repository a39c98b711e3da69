# expected-verdict: WA
"""Honest mistake: renormalises the top-k gates for every k, so a top-1 layer weights its
expert by p / p = 1. Right for k >= 2, wrong for Switch-style k = 1."""
import math

import numpy as np


def moe_forward(x, w_router, w1, w2, k, capacity_factor=None):
    T, D = x.shape
    E = w1.shape[0]
    z = (x @ w_router).astype(np.float64)
    p = np.exp(z - (z.max(axis=1, keepdims=True) if T else 0.0))
    p /= p.sum(axis=1, keepdims=True)
    expert = np.argsort(-z, axis=1, kind="stable")[:, :k]
    gate = np.take_along_axis(p, expert, axis=1)
    gate /= gate.sum(axis=1, keepdims=True)  # wrong for k = 1: gate = 1
    kept = np.ones((T, k), dtype=bool)
    if capacity_factor is not None:
        C = math.ceil(capacity_factor * T * k / E)
        fill = np.zeros(E, dtype=np.int64)
        for j in range(k):
            for t in range(T):
                kept[t, j] = fill[expert[t, j]] < C
                fill[expert[t, j]] += 1
    y = np.zeros((T, D), dtype=x.dtype)
    for e in range(E):
        tok, slot = np.nonzero((expert == e) & kept)
        if tok.size:
            out = np.maximum(x[tok] @ w1[e], 0) @ w2[e]
            y[tok] += gate[tok, slot, None].astype(x.dtype) * out
    return y
