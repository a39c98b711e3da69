"""grouped-gemm-backward, Numba reference (the speed yardstick): two BLAS GEMMs per group, from
where they ran fastest, as in grouped-gemm's Numba reference (its docstring has the table):
one-row groups from a compiled loop, every larger group through NumPy's matmul (SciPy's copy of
OpenBLAS, which `np.dot` in njit calls, was the slower of the two from a few rows up; here its
transposed-A GEMM of dw ran at 129-131 GFLOP/s against NumPy's 139). The transposes are views,
passed to BLAS as flags, so w[g].T and x[lo:hi].T are never copied:

    dx[lo:hi] = dy[lo:hi] @ w[g].T      dw[g] = x[lo:hi].T @ dy[lo:hi]
"""
from __future__ import annotations

import numba
import numpy as np


SMALL = 2  # rows: a group below this (one row) goes through the compiled loop


@numba.njit(cache=True)
def _small_groups(x, offsets, w, dy, dx, dw, small):
    for g in range(w.shape[0]):
        lo, hi = offsets[g], offsets[g + 1]
        if 0 < hi - lo < small:
            np.dot(dy[lo:hi], w[g].T, dx[lo:hi])
            np.dot(x[lo:hi].T, dy[lo:hi], dw[g])


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
    dw[sizes == 0] = 0  # an empty group's gradient is an empty sum
    if not (N and D and H):
        dx[:] = 0
        dw[:] = 0
        return dx, dw
    x, w, dy = np.ascontiguousarray(x), np.ascontiguousarray(w), np.ascontiguousarray(dy)
    for g in np.flatnonzero(sizes >= SMALL):
        lo, hi = offsets[g], offsets[g + 1]
        np.matmul(dy[lo:hi], w[g].T, out=dx[lo:hi])
        np.matmul(x[lo:hi].T, dy[lo:hi], out=dw[g])
    if ((sizes > 0) & (sizes < SMALL)).any():
        _small_groups(x, offsets, w, dy, dx, dw, SMALL)
    return dx, dw
