"""bsr-spmm, Numba reference (the speed yardstick): Y = A·X one block at a time.

For each stored block (I, J) and each of its b x b values a = A[I·b + r, J·b + c], the row
X[J·b + c, :] is scaled by a and added to Y[I·b + r, :]. The innermost loop runs over the k
columns of X and Y, contiguous in C order, so it vectorises, and the b rows of Y that a block
row updates (b·k values) stay in L1 while its blocks stream past. scipy's bsr_matvecs computes
the same sums as a dot product of length b down a *column* of X (stride k) for every output
value: the same arithmetic in an order that neither vectorises nor streams.

Indices are widened to int64 once: mixing unsigned and signed integers in Numba arithmetic
gives floats, and the 2-D row views below need plain integer offsets.
"""
import numba
import numpy as np

from harness.types import BSR


@numba.njit(cache=True)
def _bsr_spmm(indptr, indices, data, X, Y):
    b = data.shape[1]
    k = X.shape[1]
    for I in range(indptr.size - 1):
        for p in range(indptr[I], indptr[I + 1]):
            J = indices[p]
            for r in range(b):
                y = Y[I * b + r]  # a view of one row of Y: no copy
                for c in range(b):
                    a = data[p, r, c]
                    x = X[J * b + c]
                    for t in range(k):  # contiguous: vectorised
                        y[t] += a * x[t]


def bsr_spmm(A: BSR, X: np.ndarray) -> np.ndarray:
    rows, cols = int(A.shape[0]), int(A.shape[1])
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] != cols:
        raise ValueError(f"X has shape {X.shape}; A is {rows}x{cols}, so X needs shape ({cols}, k)")
    Y = np.zeros((rows, X.shape[1]))
    if A.indices.size and X.shape[1]:
        _bsr_spmm(A.indptr.astype(np.int64), A.indices.astype(np.int64),
                  np.ascontiguousarray(A.data, dtype=np.float64), np.ascontiguousarray(X, dtype=np.float64), Y)
    return Y
