"""spmm, Numba reference (the speed yardstick): for each row of A, each stored entry
(i, j, a) adds a·X[j, :] to Y[i, :]. X is C-ordered, so X[j, :] and Y[i, :] are contiguous
and the k-long update vectorises; Y's row stays in L1 while the row of A is read. Two
entries are applied per pass over Y's row, so each entry costs one load of X's row and half
a load and store of Y's (the plain axpy loop needs a full one each).

Index arrays are read through unsigned views (no negative-index wraparound code).
"""
import numba
import numpy as np

from harness.types import CSR


@numba.njit(cache=True)
def _spmm(indptr, indices, data, X, Y):
    k = X.shape[1]
    for i in range(Y.shape[0]):
        y = Y[i]
        y[:] = 0.0
        p, end = np.int64(indptr[i]), np.int64(indptr[i + 1])  # signed: p += 2 must not mix types
        while p + 1 < end:  # two entries per pass over y: half the loads and stores of y
            a0, x0 = data[p], X[indices[p]]
            a1, x1 = data[p + 1], X[indices[p + 1]]
            for c in range(k):
                y[c] += a0 * x0[c] + a1 * x1[c]
            p += 2
        if p < end:
            a0, x0 = data[p], X[indices[p]]
            for c in range(k):
                y[c] += a0 * x0[c]


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
