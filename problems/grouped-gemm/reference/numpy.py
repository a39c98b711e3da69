"""grouped-gemm, NumPy reference (the oracle): one BLAS GEMM per group, written in place.

The rows of x are already grouped, so group g is the contiguous slice offsets[g]:offsets[g+1]
and `np.matmul(x[lo:hi], w[g], out=y[lo:hi])` computes it with no copy: x's slice and y's slice
are C-contiguous views. Work 2·N·D·H FLOPs whatever the split; a Python round trip per group.
"""
from __future__ import annotations

import numpy as np


def _offsets(group_sizes: np.ndarray, N: int, E: int) -> np.ndarray:
    sizes = np.asarray(group_sizes)
    if sizes.shape != (E,) or sizes.dtype.kind not in "iu":
        raise ValueError(f"group_sizes must be E = {E} integers, got shape {sizes.shape}, dtype {sizes.dtype}")
    if (sizes < 0).any() or int(sizes.sum()) != N:
        raise ValueError(f"group_sizes must be >= 0 and add up to N = {N}, got sum {int(sizes.sum())}")
    offsets = np.zeros(E + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    return offsets


def grouped_gemm(x: np.ndarray, group_sizes: np.ndarray, w: np.ndarray) -> np.ndarray:
    N, D = x.shape
    E, _, H = w.shape
    offsets = _offsets(group_sizes, N, E)
    y = np.empty((N, H), dtype=x.dtype)  # every row belongs to exactly one group: all written
    for g in range(E):
        lo, hi = offsets[g], offsets[g + 1]
        if hi > lo:
            np.matmul(x[lo:hi], w[g], out=y[lo:hi])
    return y
