# expected-verdict: AC
"""Correct but slow: the statement token by token. Route each token in plain Python, then run its
shared and routed experts as matrix-vector products. Every weight is re-read for every token that
uses it: memory-bound, and a Python round trip per expert per token."""
import math

import numpy as np


def _sigmoid(v):
    return 1.0 / (1.0 + math.exp(-v)) if v >= 0 else math.exp(v) / (1.0 + math.exp(v))


def _ffn(x, wg, wu, wd):
    g = x @ wg
    return (g / (1.0 + np.exp(-g)) * (x @ wu)) @ wd


def deepseek_moe_forward(x, w_router, bias, shared, routed, k, n_groups, top_groups, route_scale):
    T, D = x.shape
    E = routed[0].shape[0]
    n = E // n_groups
    logits = (x @ w_router).astype(np.float64)
    y = np.zeros((T, D), dtype=x.dtype)
    for t in range(T):
        s = [_sigmoid(v) for v in logits[t].tolist()]
        q = [s[e] + float(bias[e]) for e in range(E)]
        allowed = range(E)
        if n_groups > 1:
            score = []
            for g in range(n_groups):
                two = sorted(q[g * n:(g + 1) * n])[-2:]
                score.append(two[1] + two[0])
            kept = sorted(range(n_groups), key=lambda g: (-score[g], g))[:top_groups]
            allowed = [e for e in range(E) if e // n in kept]
        chosen = sorted(allowed, key=lambda e: (-q[e], e))[:k]
        total = sum(s[e] for e in chosen)
        for i in range(shared[0].shape[0]):
            y[t] += _ffn(x[t], shared[0][i], shared[1][i], shared[2][i])
        for e in chosen:
            y[t] += np.float32(s[e] / total * route_scale) * _ffn(x[t], routed[0][e], routed[1][e], routed[2][e])
    return y
