"""grouped-gemm-backward, NumPy reference (the oracle): for y = x[rows of g] @ w[g] per group,

    dx[rows of g] = dy[rows of g] @ w[g].T        (N, D)
    dw[g]         = x[rows of g].T @ dy[rows of g]  (E, D, H); zeros for an empty group

two GEMMs per group (4·N·D·H FLOPs), written into slices of the outputs: no copies.
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


def grouped_gemm_backward(x: np.ndarray, group_sizes: np.ndarray, w: np.ndarray,
                          dy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    N, D = x.shape
    E, _, H = w.shape
    offsets = _offsets(group_sizes, N, E)
    dx = np.empty((N, D), dtype=x.dtype)  # every row is in exactly one group: all written
    dw = np.zeros((E, D, H), dtype=x.dtype)  # an empty group's gradient is zero
    for g in range(E):
        lo, hi = offsets[g], offsets[g + 1]
        if hi > lo:
            np.matmul(dy[lo:hi], w[g].T, out=dx[lo:hi])
            np.matmul(x[lo:hi].T, dy[lo:hi], out=dw[g])
    return dx, dw
