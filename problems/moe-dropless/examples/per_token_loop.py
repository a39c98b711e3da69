# expected-verdict: AC
"""Correct but slow: every assignment computed on its own, two vector-matrix products per token
and expert. The same FLOPs as the grouped layer, but each product reads a whole D×H weight
matrix for 2·D·H FLOPs (memory speed) and there is a Python round trip per assignment. The
dispatch exists to turn these T·k matrix-vector products into E matrix-matrix products."""
import numpy as np


def moe_dropless(x, expert, gate, w1, w2):
    T, D = x.shape
    y = np.zeros((T, D), dtype=x.dtype)
    for t in range(T):
        for j in range(expert.shape[1]):
            e = expert[t, j]
            y[t] += x.dtype.type(gate[t, j]) * (np.maximum(x[t] @ w1[e], 0) @ w2[e])
    return y
