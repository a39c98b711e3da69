# expected-verdict: WA
"""Honest mistake: the textbook softmax exp(z) / sum(exp(z)) without subtracting the row
maximum. Fine for small logits; exp(1e4) overflows to inf and inf / inf is NaN."""
import math

import numpy as np


def route(logits, k, capacity_factor):
    z = np.asarray(logits, dtype=np.float64)
    T, E = z.shape
    with np.errstate(over="ignore", invalid="ignore"):
        ez = np.exp(z)  # overflows for z > 709
        s = ez.sum(axis=1, keepdims=True)
        p = ez / s
        lse = np.log(s[:, 0])
    expert = np.argsort(-z, axis=1, kind="stable")[:, :k]
    top = np.take_along_axis(p, expert, axis=1)
    gate = top if k == 1 else top / top.sum(axis=1, keepdims=True)
    kept = np.ones((T, k), dtype=bool)
    if capacity_factor is not None:
        C = math.ceil(capacity_factor * T * k / E)
        fill = np.zeros(E, dtype=np.int64)
        for j in range(k):
            for t in range(T):
                kept[t, j] = fill[expert[t, j]] < C
                fill[expert[t, j]] += 1
    if T == 0:
        return expert, gate, kept, 0.0, 0.0
    f = np.bincount(expert[:, 0], minlength=E) / T
    return expert, gate, kept, E * float(f @ p.mean(axis=0)), float(np.mean(lse**2))
