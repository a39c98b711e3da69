# expected-verdict: WA
"""Cheat: save memory by sorting the input arrays in place. The answer is right, but the
inputs are read-only mappings of a file the child cannot write, so the first write raises:
WA (the call modified its input arrays)."""
import numpy as np

from harness.types import COO, CSR, index_dtype


def coo_to_csr(A: COO) -> CSR:
    n_rows, n_cols = A.shape
    if A.row.size and (A.row.min() < 0 or A.col.min() < 0 or A.row.max() >= n_rows or A.col.max() >= n_cols):
        raise ValueError("index outside the shape")
    order = np.lexsort((A.col, A.row))
    A.row[:], A.col[:], A.data[:] = A.row[order], A.col[order], A.data[order]  # in place
    r, c, d = A.row, A.col, A.data
    if r.size:
        starts = np.flatnonzero(np.r_[True, (r[1:] != r[:-1]) | (c[1:] != c[:-1])])
        with np.errstate(invalid="ignore"):
            d = np.add.reduceat(d, starts)
        r, c = r[starts], c[starts]
    dt = index_dtype(n_rows, n_cols, r.size)
    indptr = np.zeros(n_rows + 1, dtype=dt)
    np.cumsum(np.bincount(r, minlength=n_rows), out=indptr[1:])
    return CSR(indptr, c.astype(dt), d.astype(np.float64), (n_rows, n_cols))
