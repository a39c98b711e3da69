"""grouped-gemm, Numba reference (the speed yardstick): one BLAS GEMM per group, called from
where it ran fastest: one-row groups from a compiled loop, the rest through NumPy's matmul.

Every group is one GEMM on contiguous slices, no copies: group g's x rows and y rows are
offsets[g]:offsets[g+1]. Inside njit, `np.dot(a, b, out)` calls SciPy's copy of OpenBLAS; from
Python, `np.matmul` calls NumPy's. Which copy does the work mattered more than the Python round
trip per group (slicing, checks, dispatch: a few microseconds) that a compiled loop saves.
Measured with `python benchmarks/grouped_gemm_vs_dense.py --problem grouped-gemm --mix balanced
--E 64 --rows R --impl ...` (and E = 8, rows 8,192), D = 512, H = 1,024, one thread, Intel Xeon,
2026-12-03, SciPy 1.17's OpenBLAS 0.3.30 against NumPy 2.4's 0.3.31; medians of 21-31
interleaved rounds, the whole grouped GEMM (the compiled loop is this file as it was before,
in git history, beside the NumPy reference):

| rows per group | compiled loop (np.dot in njit) | Python loop (np.matmul) |
|--:|--:|--:|
| 1 (E = 64) | 7.2 ms | 8.0 ms |
| 4 (E = 64) | 30.3 ms | 24.5 ms |
| 16 (E = 64) | 57.6 ms | 27.9 ms |
| 64 (E = 64) | 83.9 ms | 65.1 ms |
| 1,024 (E = 8) | 69.3 ms | 67.0 ms |

So a group of one row (a matrix-vector product, where the round trip is the largest share)
goes through the compiled loop, and every larger one through NumPy. Another machine's BLAS
copies may rank the other way: the benchmark above says which.
"""
from __future__ import annotations

import numba
import numpy as np

SMALL = 2  # rows: a group below this (one row) goes through the compiled loop


@numba.njit(cache=True)
def _small_groups(x, offsets, w, y, small):
    for g in range(w.shape[0]):
        lo, hi = offsets[g], offsets[g + 1]
        if 0 < hi - lo < small:
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
    if not (N and H and D):
        y[:] = 0  # D = 0: empty sums
        return y
    x, w = np.ascontiguousarray(x), np.ascontiguousarray(w)
    for g in np.flatnonzero(sizes >= SMALL):
        lo, hi = offsets[g], offsets[g + 1]
        np.matmul(x[lo:hi], w[g], out=y[lo:hi])
    if ((sizes > 0) & (sizes < SMALL)).any():
        _small_groups(x, offsets, w, y, SMALL)
    return y
