# expected-verdict: AC
"""Correct but slow: each token routed and sent through its experts one at a time, two
matrix-vector products per assignment. The FLOPs are the same as the reference's; the
time is not (no GEMM, a Python round trip per token)."""
import math

import numpy as np


def moe_forward(x, w_router, w1, w2, k, capacity_factor=None):
    T, D = x.shape
    E = w1.shape[0]
    logits = (x @ w_router).astype(np.float64)
    choices = []
    for t in range(T):
        z = logits[t]
        p = np.exp(z - z.max())
        p /= p.sum()
        top = sorted(range(E), key=lambda e: (-z[e], e))[:k]
        g = [p[e] for e in top] if k == 1 else [p[e] / sum(p[i] for i in top) for e in top]
        choices.append(list(zip(top, g)))
    kept = [[True] * k for _ in range(T)]
    if capacity_factor is not None:
        C = math.ceil(capacity_factor * T * k / E)
        fill = [0] * E
        for j in range(k):
            for t in range(T):
                e = choices[t][j][0]
                kept[t][j] = fill[e] < C
                fill[e] += 1
    y = np.zeros((T, D), dtype=x.dtype)
    for t in range(T):
        for j, (e, g) in enumerate(choices[t]):
            if kept[t][j]:
                y[t] += np.float32(g) * (np.maximum(x[t] @ w1[e], 0) @ w2[e])
    return y
