# expected-verdict: WA
"""Honest mistake: moves the entries right but keeps A's shape, so any non-square matrix fails."""
import numpy as np

from harness.types import CSR, index_dtype


def csr_transpose(A: CSR) -> CSR:
    n_rows, n_cols = A.shape
    rows = np.repeat(np.arange(n_rows), np.diff(A.indptr))
    order = np.argsort(A.indices, kind="stable")
    dt = index_dtype(n_rows, n_cols, A.indices.size)
    indptr = np.zeros(n_cols + 1, dtype=dt)
    np.cumsum(np.bincount(A.indices, minlength=n_cols), out=indptr[1:])
    return CSR(indptr, rows[order].astype(dt), A.data[order].copy(), A.shape)
