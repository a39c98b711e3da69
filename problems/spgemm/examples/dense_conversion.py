# expected-verdict: MLE
# grade-plan: full
"""Correct on small inputs, and a trap: convert both matrices to dense arrays, let BLAS
multiply, convert back. Memory O(rows·cols) and time O(rows·inner·cols) whatever the
sparsity: at the largest benchmark size (37,500 x 37,500, 8 entries per row) one dense
copy of A alone needs 11 GB, so it runs out of memory (and the grader carries on)."""
import numpy as np

from harness.types import CSR, index_dtype


def _dense(M: CSR) -> np.ndarray:
    D = np.zeros(M.shape)
    rows = np.repeat(np.arange(M.shape[0]), np.diff(M.indptr))
    D[rows, M.indices] = M.data
    return D


def spgemm(A: CSR, B: CSR) -> CSR:
    if A.shape[1] != B.shape[0]:
        raise ValueError(f"cannot multiply {A.shape} by {B.shape}")
    with np.errstate(invalid="ignore"):
        C = _dense(A) @ _dense(B)
    # every structural entry is kept (a dense product cannot tell 0 from "absent" exactly,
    # but exact zeros may be dropped by the contract); NaN counts as non-zero
    rows, cols = np.nonzero(C)
    dt = index_dtype(C.shape[0], C.shape[1], rows.size)
    indptr = np.zeros(C.shape[0] + 1, dtype=dt)
    np.cumsum(np.bincount(rows, minlength=C.shape[0]), out=indptr[1:])
    return CSR(indptr, cols.astype(dt), C[rows, cols], C.shape)
