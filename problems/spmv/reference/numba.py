"""spmv, Numba reference (the speed yardstick): one pass over the rows, one running sum
per row. Reads each stored entry once, x at its column indices, writes y once: the
memory traffic the bytes model counts.

Scattered columns (a random or power-law matrix) make every x[j] a cache miss the core
cannot see coming: the loop then prefetches x[indices[p + AHEAD]] while it works on entry
p, so AHEAD misses are in flight at once. A banded matrix (a stencil) reads x in streams
the hardware prefetchers already follow; there the extra instructions would only cost, so
harness.prefetch.scattered_columns decides from a sample of rows which loop runs.

Index arrays are read through unsigned views: a canonical CSR has no negative index, and
an unsigned one spares Numba its negative-index wraparound code in the inner loop.
"""
import numba
import numpy as np

from harness.prefetch import prefetch, scattered_columns
from harness.types import CSR

AHEAD = 64  # entries: x[indices[p + AHEAD]] is requested while entry p is summed


@numba.njit(cache=True)
def _spmv(indptr, indices, data, x, y):
    for i in range(y.size):
        s = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            s += data[p] * x[indices[p]]
        y[i] = s


@numba.njit(cache=True)
def _spmv_prefetching(indptr, indices, data, x, y):
    """_spmv, requesting x[indices[p + AHEAD]] while entry p is summed."""
    last = indices.size - AHEAD  # entries with one AHEAD of them
    for i in range(y.size):
        s = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            if p < last:
                prefetch(x, indices[p + AHEAD])
            s += data[p] * x[indices[p]]
        y[i] = s


def unsigned(a: np.ndarray) -> np.ndarray:
    """The same memory as an unsigned integer array (int32 -> uint32, int64 -> uint64)."""
    a = np.ascontiguousarray(a)
    return a.view(np.dtype(f"u{a.itemsize}")) if a.dtype.kind == "i" else a


def spmv(A: CSR, x: np.ndarray) -> np.ndarray:
    n_rows, n_cols = int(A.shape[0]), int(A.shape[1])
    x = np.ascontiguousarray(x, dtype=np.float64)
    if x.ndim != 1 or x.shape[0] != n_cols:
        raise ValueError(f"x has shape {x.shape}; A is {n_rows}x{n_cols}, so x needs shape ({n_cols},)")
    y = np.empty(n_rows)
    kernel = _spmv_prefetching if scattered_columns(A.indptr, A.indices, A.shape, x.itemsize) else _spmv
    kernel(unsigned(A.indptr), unsigned(A.indices), np.ascontiguousarray(A.data, dtype=np.float64), x, y)
    return y
