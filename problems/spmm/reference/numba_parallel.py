"""spmm, Numba reference with threads: rows split into chunks of about equal entries
(power-law rows would starve an equal-rows split), one `prange` iteration per chunk; each
row is computed by one thread in order, so the result is bitwise the serial one. Scattered
columns get the serial reference's software prefetch of X's rows."""
import numba
import numpy as np

from harness.prefetch import prefetch, scattered_columns
from harness.simd import row_times_dense
from harness.types import CSR

CHUNKS_PER_THREAD = 4
AHEAD = 16  # entries (see spmm's numba.py: software prefetch of X's rows for scattered columns)


@numba.njit(cache=True, parallel=True)
def _spmm(indptr, indices, data, X, Y, bounds):
    for b in numba.prange(bounds.size - 1):
        for i in range(bounds[b], bounds[b + 1]):  # the serial reference's loop
            lo, hi = indptr[i], indptr[i + 1]
            row_times_dense(indices, data, X, lo, hi, Y, i)


@numba.njit(cache=True, parallel=True)
def _spmm_prefetching(indptr, indices, data, X, Y, bounds):
    """_spmm, requesting the row of X for entry p + AHEAD while entry p is added (scattered columns)."""
    k = X.shape[1]
    last = indices.size - AHEAD
    for b in numba.prange(bounds.size - 1):
        for i in range(bounds[b], bounds[b + 1]):
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


def row_chunks(indptr: np.ndarray, n_chunks: int) -> np.ndarray:
    """Row boundaries splitting the entries about evenly: at most n_chunks pieces, found by
    binary search in indptr (integer targets of its own dtype, so no O(rows) copy)."""
    n_rows, nnz = indptr.size - 1, int(indptr[-1])
    targets = (np.arange(1, n_chunks, dtype=np.int64) * nnz // n_chunks).astype(indptr.dtype)
    return np.unique(np.r_[0, np.searchsorted(indptr, targets), n_rows]).astype(np.int64)


def unsigned(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    return a.view(np.dtype(f"u{a.itemsize}")) if a.dtype.kind == "i" else a


def spmm(A: CSR, X: np.ndarray) -> np.ndarray:
    n_rows, n_cols = int(A.shape[0]), int(A.shape[1])
    X = np.ascontiguousarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] != n_cols:
        raise ValueError(f"X has shape {X.shape}; A is {n_rows}x{n_cols}, so X needs shape ({n_cols}, k)")
    Y = np.empty((n_rows, X.shape[1]))
    bounds = row_chunks(np.asarray(A.indptr), CHUNKS_PER_THREAD * numba.get_num_threads())
    scattered = X.shape[1] and scattered_columns(A.indptr, A.indices, A.shape, X.shape[1] * X.itemsize)
    kernel = _spmm_prefetching if scattered else _spmm
    kernel(unsigned(A.indptr), unsigned(A.indices), np.ascontiguousarray(A.data, dtype=np.float64), X, Y, bounds)
    return Y
