"""spmm, Numba reference (the speed yardstick): Y[i, :] is the sum over row i's stored
entries (i, j, a) of a·X[j, :], added in entry order. X is C-ordered, so X[j, :] and Y[i, :]
are contiguous.

Each row is summed 8 columns at a time, the 8 sums in one vector register for the whole row
(harness.simd.row_block8), and stored once; the last k % 8 columns get one running sum each.
The plain loop, `Y[i, c] += a * X[j, c]` over c, is what LLVM would vectorise, but on an
AVX-512 host its vector body covers 32 columns (8 doubles x 4 interleaved), so at k = 16 every
column ran in its scalar remainder. On the 3D Laplacian at k = 16 (`sparsebench yardstick table
--problems spmm`, AMD EPYC, 2026-12-02, results/bench/yardstick/runs/): the plain loop 0.92x
scipy, a k-long buffer stored once 1.08x (three runs), the vector blocks 1.49-1.51x (three
runs, runs/2026-12-02-spmm-simd). The order of the additions is the plain loop's, so all
three give the same bits.

Scattered columns (random, power-law) make each X[j, :] a miss the core cannot see coming:
that loop keeps the plain update and prefetches the row of X that entry p + AHEAD will read,
so that many misses overlap. Prefetching a row's entries first and then summing it in vector
blocks was 1.18x [1.05, 1.32] faster on the uniform matrix but 0.90x [0.81, 0.96] on
power-law rows (15-21 interleaved rounds), so it did not land. A banded matrix (a stencil)
streams X, which the hardware prefetchers follow (harness.prefetch.scattered_columns decides
from a sample of rows). The first touch of Y's fresh pages (128 MB at k = 16, 10⁶ rows) is
part of every call, the library's too.

Index arrays are read through unsigned views (no negative-index wraparound code).
"""
import numba
import numpy as np

from harness.prefetch import prefetch, scattered_columns
from harness.simd import row_times_dense
from harness.types import CSR

AHEAD = 16  # entries: the row of X for entry p + AHEAD is requested while entry p is added


@numba.njit(cache=True)
def _spmm(indptr, indices, data, X, Y):
    for i in range(Y.shape[0]):
        lo, hi = indptr[i], indptr[i + 1]
        row_times_dense(indices, data, X, lo, hi, Y, i)


@numba.njit(cache=True)
def _spmm_prefetching(indptr, indices, data, X, Y):
    """_spmm, requesting the row X[indices[p + AHEAD], :] (its first and last element: the row's
    cache lines when k·8 <= 128 bytes) while entry p is added."""
    k = X.shape[1]
    last = indices.size - AHEAD
    for i in range(Y.shape[0]):
        for c in range(k):
            Y[i, c] = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            if p < last:
                ahead = np.int64(indices[p + AHEAD]) * k
                prefetch(X, ahead)
                prefetch(X, ahead + k - 1)
            a = data[p]
            j = indices[p]
            for c in range(k):
                Y[i, c] += a * X[j, c]


def unsigned(a: np.ndarray) -> np.ndarray:
    """The same memory as an unsigned integer array (int32 -> uint32, int64 -> uint64)."""
    a = np.ascontiguousarray(a)
    return a.view(np.dtype(f"u{a.itemsize}")) if a.dtype.kind == "i" else a


def spmm(A: CSR, X: np.ndarray) -> np.ndarray:
    n_rows, n_cols = int(A.shape[0]), int(A.shape[1])
    X = np.ascontiguousarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] != n_cols:
        raise ValueError(f"X has shape {X.shape}; A is {n_rows}x{n_cols}, so X needs shape ({n_cols}, k)")
    Y = np.empty((n_rows, X.shape[1]))
    scattered = X.shape[1] and scattered_columns(A.indptr, A.indices, A.shape, X.shape[1] * X.itemsize)
    kernel = _spmm_prefetching if scattered else _spmm
    kernel(unsigned(A.indptr), unsigned(A.indices), np.ascontiguousarray(A.data, dtype=np.float64), X, Y)
    return Y
