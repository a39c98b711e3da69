"""grouped-gemm, Numba reference (the speed yardstick): the loop over groups compiled, each
group one BLAS GEMM (`np.dot` with `out=` inside njit calls sgemm/dgemm through SciPy's BLAS).

The arithmetic is BLAS's either way; what Numba removes is the per-group Python overhead
(slicing, argument checks, dispatch: a few microseconds a group), which is what a grouped
GEMM with many small groups (fine-grained experts, decoding) pays for. No copies: every group's
x rows and y rows are contiguous slices.
"""
from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def _grouped(x, offsets, w, y):
    for g in range(w.shape[0]):
        lo, hi = offsets[g], offsets[g + 1]
        if hi > lo:
            np.dot(x[lo:hi], w[g], y[lo:hi])


def grouped_gemm(x: np.ndarray, group_sizes: np.ndarray, w: np.ndarray) -> np.ndarray:
    N, D = x.shape
    E, _, H = w.shape
    sizes = np.asarray(group_sizes)
    if sizes.shape != (E,) or sizes.dtype.kind not in "iu":
        raise ValueError(f"group_sizes must be E = {E} integers, got shape {sizes.shape}, dtype {sizes.dtype}")
    if (sizes < 0).any() or int(sizes.sum()) != N:
        raise ValueError(f"group_sizes must be >= 0 and add up to N = {N}, got sum {int(sizes.sum())}")
    offsets = np.zeros(E + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    y = np.empty((N, H), dtype=x.dtype)
    if N and H and D:
        _grouped(np.ascontiguousarray(x), offsets, np.ascontiguousarray(w), y)
    elif N and H:
        y[:] = 0  # D = 0: empty sums
    return y
