# expected-verdict: WA
"""Honest mistake: sorts the triplets but never sums repeated (row, col) pairs, so a
duplicated coordinate appears twice in its row."""
import numpy as np

from harness.types import COO, CSR, index_dtype


def coo_to_csr(A: COO) -> CSR:
    n_rows, n_cols = A.shape
    if A.row.size and (A.row.min() < 0 or A.col.min() < 0 or A.row.max() >= n_rows or A.col.max() >= n_cols):
        raise ValueError("index outside the shape")
    order = np.lexsort((A.col, A.row))
    dt = index_dtype(n_rows, n_cols, A.row.size)
    indptr = np.zeros(n_rows + 1, dtype=dt)
    np.cumsum(np.bincount(A.row, minlength=n_rows), out=indptr[1:])
    return CSR(indptr, A.col[order].astype(dt), A.data[order].astype(np.float64), (n_rows, n_cols))
