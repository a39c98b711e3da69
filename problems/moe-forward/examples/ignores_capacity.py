# expected-verdict: WA
"""Honest mistake: a dropless layer that ignores capacity_factor. Right when nothing
overflows, wrong as soon as an expert receives more than C = ceil(cf·T·k/E) assignments:
those assignments must contribute nothing."""
import numpy as np


def moe_forward(x, w_router, w1, w2, k, capacity_factor=None):
    T, D = x.shape
    z = (x @ w_router).astype(np.float64)
    p = np.exp(z - (z.max(axis=1, keepdims=True) if T else 0.0))
    p /= p.sum(axis=1, keepdims=True)
    expert = np.argsort(-z, axis=1, kind="stable")[:, :k]
    gate = np.take_along_axis(p, expert, axis=1)
    if k > 1:
        gate /= gate.sum(axis=1, keepdims=True)
    y = np.zeros((T, D), dtype=x.dtype)
    for e in range(w1.shape[0]):
        tok, slot = np.nonzero(expert == e)
        if tok.size:
            out = np.maximum(x[tok] @ w1[e], 0) @ w2[e]
            y[tok] += gate[tok, slot, None].astype(x.dtype) * out
    return y
