# expected-verdict: WA
"""Honest mistake: an unstable sort by column scrambles the row order inside each output
row, so the result is not canonical (indices not increasing)."""
import numpy as np

from harness.types import CSR, index_dtype


def csr_transpose(A: CSR) -> CSR:
    n_rows, n_cols = A.shape
    rows = np.repeat(np.arange(n_rows), np.diff(A.indptr))
    order = np.argsort(-A.indices.astype(np.int64), kind="stable")[::-1]  # ties come out reversed
    dt = index_dtype(n_rows, n_cols, A.indices.size)
    indptr = np.zeros(n_cols + 1, dtype=dt)
    np.cumsum(np.bincount(A.indices, minlength=n_cols), out=indptr[1:])
    return CSR(indptr, rows[order].astype(dt), A.data[order].copy(), (n_cols, n_rows))
