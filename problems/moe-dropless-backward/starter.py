"""moe-dropless-backward: gradients of y[t] = sum_j gate[t, j] * relu(x[t] @ w1[e]) @ w2[e], e = expert[t, j].

Read the statement: `sparsebench show moe-dropless-backward`.
Grade: `sparsebench grade moe-dropless-backward THIS_FILE`.
"""
from __future__ import annotations

import numpy as np


def moe_dropless_backward(x, expert, gate, w1, w2, dy):
    T, D = x.shape
    k = expert.shape[1]
    E, _, H = w1.shape
    # L = sum(y * dy); the routing (expert) is fixed, the gates are differentiated
    # per expert on its grouped rows: h = xs @ w1[e], a = relu(h), da = dys @ w2[e].T
    #   dgate = sum(a * da, axis=1); dw2[e] = (g a).T @ dys; dh = g da [h > 0]; dw1[e] = xs.T @ dh; dxs = dh @ w1[e].T
    # dx[t] = sum over t's k rows; dx, dw1, dw2 in x's dtype, dgate (T, k) float64 (the gate's dtype)
    raise NotImplementedError("write moe_dropless_backward")
