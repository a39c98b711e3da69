"""sddmm, NumPy reference (the oracle): row by row, gather the rows of B that row i of S samples and
take their dot products with A[i] in one einsum. Memory O(longest row · d); no BLAS, whose kernels
may skip zeros and so lose IEEE's 0 · inf = NaN."""
import numpy as np

from harness.types import CSR


def _validate(S: CSR, A: np.ndarray, B: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    m, n = int(S.shape[0]), int(S.shape[1])
    A, B = np.asarray(A, dtype=np.float64), np.asarray(B, dtype=np.float64)
    if A.ndim != 2 or B.ndim != 2 or A.shape[0] != m or B.shape[0] != n or A.shape[1] != B.shape[1]:
        raise ValueError(f"A has shape {A.shape} and B {B.shape}; S is {m}x{n}, so they need shapes "
                         f"({m}, d) and ({n}, d) with the same d")
    return A, B


def sddmm(S: CSR, A: np.ndarray, B: np.ndarray, scaled: bool) -> np.ndarray:
    A, B = _validate(S, A, B)
    indptr = np.asarray(S.indptr, dtype=np.int64)
    out = np.zeros(S.indices.size)
    with np.errstate(invalid="ignore", over="ignore"):  # IEEE: 0 * inf is NaN, as it should be
        for i in np.flatnonzero(indptr[1:] > indptr[:-1]):
            lo, hi = indptr[i], indptr[i + 1]
            out[lo:hi] = np.einsum("jk,k->j", B[S.indices[lo:hi]], A[i])
        if scaled:
            out *= S.data
    return out
