# expected-verdict: AC
"""Correct but slow: one vector-matrix product per row. The FLOPs are those of the grouped GEMM,
but every row reads its group's whole D×H weight matrix for 2·D·H FLOPs (one FLOP per two bytes
of float32 weights), so it runs at memory speed, plus a Python round trip per row. Grouping
exists to turn N matrix-vector products into E matrix-matrix products."""
import numpy as np


def grouped_gemm(x, group_sizes, w):
    N, D = x.shape
    E, _, H = w.shape
    sizes = np.asarray(group_sizes)
    if sizes.shape != (E,) or (sizes < 0).any() or int(sizes.sum()) != N:
        raise ValueError("group_sizes must be E integers >= 0 that add up to N")
    group_of_row = np.repeat(np.arange(E), sizes)
    y = np.empty((N, H), dtype=x.dtype)
    for i in range(N):
        y[i] = x[i] @ w[group_of_row[i]]
    return y
