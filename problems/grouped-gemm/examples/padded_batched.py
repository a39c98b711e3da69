# expected-verdict: AC
"""Correct, and wasteful: a padded batched GEMM. Every group is copied into an (E, M, D) buffer
with M = the largest group size, the rest zero, and one batched matmul (E, M, D) @ (E, D, H)
runs every group at M rows; the real rows are copied back out. It computes E·M·D·H·2 FLOPs
instead of N·D·H·2: E·M/N times the work (8x when one of 8 experts gets everything), the cost
of a capacity buffer without the drops."""
import numpy as np


def grouped_gemm(x, group_sizes, w):
    N, D = x.shape
    E, _, H = w.shape
    sizes = np.asarray(group_sizes)
    if sizes.shape != (E,) or (sizes < 0).any() or int(sizes.sum()) != N:
        raise ValueError("group_sizes must be E integers >= 0 that add up to N")
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    M = int(sizes.max()) if E else 0
    buf = np.zeros((E, M, D), dtype=x.dtype)
    for g in range(E):
        buf[g, :sizes[g]] = x[offsets[g]:offsets[g + 1]]
    out = np.matmul(buf, w)  # (E, M, H): every group at M rows
    y = np.empty((N, H), dtype=x.dtype)
    for g in range(E):
        y[offsets[g]:offsets[g + 1]] = out[g, :sizes[g]]
    return y
