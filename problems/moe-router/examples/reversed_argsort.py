# expected-verdict: WA
"""Honest mistake: descending order by reversing an ascending argsort. The values come out
right, but a stable ascending sort puts equal logits in index order, so reversing it puts
the *higher* index first: every tie goes the wrong way."""
import math

import numpy as np


def route(logits, k, capacity_factor):
    z = np.asarray(logits, dtype=np.float64)
    T, E = z.shape
    m = z.max(axis=1, keepdims=True) if T else 0.0
    p = np.exp(z - m)
    s = p.sum(axis=1, keepdims=True)
    p /= s
    expert = np.argsort(z, axis=1, kind="stable")[:, ::-1][:, :k]  # ties: higher index first
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
    lse = m[:, 0] + np.log(s[:, 0])
    return expert, gate, kept, E * float(f @ p.mean(axis=0)), float(np.mean(lse**2))
