# expected-verdict: AC
"""Correct but slow: backpropagates one (token, expert) assignment at a time with
matrix-vector products and outer products, then the router token by token."""
import math

import numpy as np


def moe_backward(x, w_router, w1, w2, k, dy, capacity_factor=None, aux_coef=0.01, z_coef=0.001):
    T, D = x.shape
    E = w1.shape[0]
    z = (x @ w_router).astype(np.float64)
    dx, dw1, dw2 = np.zeros_like(x), np.zeros_like(w1), np.zeros_like(w2)
    dlogits = np.zeros((T, E))
    routes = []
    for t in range(T):
        top = sorted(range(E), key=lambda e: (-z[t, e], e))[:k]
        routes.append(top)
    kept = [[True] * k for _ in range(T)]
    if capacity_factor is not None:
        C = math.ceil(capacity_factor * T * k / E)
        fill = [0] * E
        for j in range(k):
            for t in range(T):
                kept[t][j] = fill[routes[t][j]] < C
                fill[routes[t][j]] += 1
    first = np.bincount([r[0] for r in routes], minlength=E) / max(T, 1)
    for t in range(T):
        m = z[t].max()
        p = np.exp(z[t] - m)
        lse = m + math.log(p.sum())
        p /= p.sum()
        top = routes[t]
        S = sum(p[e] for e in top) if k > 1 else 1.0
        dgate = np.zeros(k)
        for j, e in enumerate(top):
            if not kept[t][j]:
                continue
            g = x.dtype.type(p[e] / S)
            h = x[t] @ w1[e]
            a = np.maximum(h, 0)
            da = w2[e] @ dy[t]
            dgate[j] = a @ da
            dw2[e] += np.outer(g * a, dy[t])
            dh = g * da * (h > 0)
            dw1[e] += np.outer(x[t], dh)
            dx[t] += w1[e] @ dh
        dp = aux_coef * E * first / T
        for j, e in enumerate(top):
            if k == 1:
                dp[e] += dgate[j]
            else:
                dp[e] += (dgate[j] - sum(dgate[i] * p[top[i]] / S for i in range(k))) / S
        dlogits[t] = p * (dp - dp @ p) + z_coef * 2 / T * lse * p
    dx += (dlogits @ w_router.T).astype(x.dtype)
    return dx, (x.T @ dlogits).astype(x.dtype), dw1, dw2
