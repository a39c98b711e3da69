# expected-verdict: AC
# grade-plan: quick
"""Correct but slow: scipy's loop order, compiled. For each output value Y[I·b + r, t] a dot
product of length b runs down a column of X (stride k): the same flops as the reference, but
the inner loop is a strided reduction that does not vectorise, so it runs several times slower."""
import numba
import numpy as np

from harness.types import BSR


@numba.njit(cache=True)
def _kernel(indptr, indices, data, X, Y):
    b = data.shape[1]
    k = X.shape[1]
    for I in range(indptr.size - 1):
        for p in range(indptr[I], indptr[I + 1]):
            J = indices[p]
            for r in range(b):
                for t in range(k):
                    s = Y[I * b + r, t]
                    for c in range(b):  # down a column of X: stride k
                        s += data[p, r, c] * X[J * b + c, t]
                    Y[I * b + r, t] = s


def bsr_spmm(A: BSR, X: np.ndarray) -> np.ndarray:
    if X.ndim != 2 or X.shape[0] != A.shape[1]:
        raise ValueError(f"X has shape {X.shape}, expected ({A.shape[1]}, k)")
    Y = np.zeros((A.shape[0], X.shape[1]))
    if A.indices.size and X.shape[1]:
        _kernel(A.indptr.astype(np.int64), A.indices.astype(np.int64), A.data, X, Y)
    return Y
