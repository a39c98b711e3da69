"""spmm, Numba reference (the speed yardstick): for each row of A, each stored entry
(i, j, a) adds a·X[j, :] to Y[i, :]. X is C-ordered, so X[j, :] and Y[i, :] are contiguous
and the k-long update vectorises; Y's row stays in L1 while the row of A is read.

Index arrays are read through unsigned views (no negative-index wraparound code).
"""
import numba
import numpy as np

from harness.types import CSR


@numba.njit(cache=True)
def _spmm(indptr, indices, data, X, Y):
    k = X.shape[1]
    for i in range(Y.shape[0]):
        for c in range(k):
            Y[i, c] = 0.0
        for p in range(indptr[i], indptr[i + 1]):
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
    _spmm(unsigned(A.indptr), unsigned(A.indices), np.ascontiguousarray(A.data, dtype=np.float64), X, Y)
    return Y
