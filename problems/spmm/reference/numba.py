"""spmm, Numba reference (the speed yardstick): for each row of A, each stored entry
(i, j, a) adds a·X[j, :] to Y[i, :]. X is C-ordered, so X[j, :] and Y[i, :] are contiguous
and the k-long update can vectorise; the row's sums stay in L1 while the row of A is read.

Scattered columns (random, power-law) make each X[j, :] a miss the core cannot see coming:
the loop then prefetches the row of X that entry p + AHEAD will read, so that many misses
overlap. A banded matrix (a stencil) streams X, which the hardware prefetchers follow; there
the plain loop runs (harness.prefetch.scattered_columns decides from a sample of rows).

Each row is summed in a k-long buffer and stored to Y once, in entry order (so the result is
bitwise the plain `Y[i, c] += a * X[j, c]` loop's). On a stencil at k = 16 that measured 1.08x
scipy in three runs (intervals within 1.06-1.09), against 0.92x [0.90, 0.94] for the plain
loop in the same hour (`sparsebench yardstick table --problems spmm`, AMD EPYC, 2026-12-02;
results/bench/yardstick/runs/2026-12-02-spmm). Neither loop is vectorised at
k = 16 there: the compiled k loop's vector body covers 32 columns (8 doubles x 4
interleaved), so 16 columns fall to its scalar remainder (the editorial says more). The
prefetching loop below keeps the plain update: on power-law rows the buffer gained nothing
there (plain time over buffered time 0.99 [0.93, 1.06], 25 interleaved rounds). The
first touch of Y's fresh pages (128 MB at k = 16, 10⁶ rows) is part of every call, the
library's too.

Index arrays are read through unsigned views (no negative-index wraparound code).
"""
import numba
import numpy as np

from harness.prefetch import prefetch, scattered_columns
from harness.simd import WIDTH, row_block8
from harness.types import CSR

AHEAD = 16  # entries: the row of X for entry p + AHEAD is requested while entry p is added


@numba.njit(cache=True)
def _spmm(indptr, indices, data, X, Y):
    k = X.shape[1]
    blocked = k - k % WIDTH
    for i in range(Y.shape[0]):
        lo, hi = indptr[i], indptr[i + 1]
        for c in range(0, blocked, WIDTH):  # 8 columns at a time, their sums in one vector register
            row_block8(indices, data, X, lo, hi, c, Y, i * k + c)
        for c in range(blocked, k):  # the last k % 8 columns, one running sum each
            s = 0.0
            for p in range(lo, hi):
                s += data[p] * X[indices[p], c]
            Y[i, c] = s


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
