"""grouped-gemm-backward, Numba reference (the speed yardstick): the loop over groups compiled,
two BLAS GEMMs per group (`np.dot(a, b, out)` in njit: SciPy's BLAS, with the transposes
passed as flags, so w[g].T and x[lo:hi].T are never copied):

    dx[lo:hi] = dy[lo:hi] @ w[g].T      dw[g] = x[lo:hi].T @ dy[lo:hi]
"""
from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def _grouped_backward(x, offsets, w, dy, dx, dw):
    for g in range(w.shape[0]):
        lo, hi = offsets[g], offsets[g + 1]
        if hi > lo:
            np.dot(dy[lo:hi], w[g].T, dx[lo:hi])
            np.dot(x[lo:hi].T, dy[lo:hi], dw[g])
        else:
            dw[g] = 0.0


def grouped_gemm_backward(x: np.ndarray, group_sizes: np.ndarray, w: np.ndarray,
                          dy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    N, D = x.shape
    E, _, H = w.shape
    sizes = np.asarray(group_sizes)
    if sizes.shape != (E,) or sizes.dtype.kind not in "iu":
        raise ValueError(f"group_sizes must be E = {E} integers, got shape {sizes.shape}, dtype {sizes.dtype}")
    if (sizes < 0).any() or int(sizes.sum()) != N:
        raise ValueError(f"group_sizes must be >= 0 and add up to N = {N}, got sum {int(sizes.sum())}")
    offsets = np.zeros(E + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    dx = np.empty((N, D), dtype=x.dtype)
    dw = np.empty((E, D, H), dtype=x.dtype)
    if N and D and H:
        _grouped_backward(np.ascontiguousarray(x), offsets, np.ascontiguousarray(w), np.ascontiguousarray(dy), dx, dw)
    else:
        dx[:] = 0
        dw[:] = 0
    return dx, dw
