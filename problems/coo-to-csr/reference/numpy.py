"""coo-to-csr, vectorised NumPy reference (the oracle): sort by (row, col), sum runs."""
import numpy as np

from harness.types import COO, CSR, index_dtype


def coo_to_csr(A: COO) -> CSR:
    row, col, data = np.asarray(A.row), np.asarray(A.col), np.asarray(A.data, dtype=np.float64)
    n_rows, n_cols = int(A.shape[0]), int(A.shape[1])
    if not (row.shape == col.shape == data.shape) or row.ndim != 1:
        raise ValueError(f"row, col and data must be 1-D and equally long, got {row.shape}, {col.shape}, {data.shape}")
    if row.size and (row.min() < 0 or row.max() >= n_rows or col.min() < 0 or col.max() >= n_cols):
        raise ValueError(f"an index lies outside the shape {A.shape}")
    order = np.lexsort((col, row))  # primary key row, then col
    r, c, d = row[order], col[order], data[order]
    if r.size:
        starts = np.flatnonzero(np.r_[True, (r[1:] != r[:-1]) | (c[1:] != c[:-1])])
        with np.errstate(invalid="ignore"):  # inf + -inf is NaN, as it should be
            d = np.add.reduceat(d, starts)  # sum each run of equal (row, col)
        r, c = r[starts], c[starts]
    dt = index_dtype(n_rows, n_cols, r.size)
    indptr = np.zeros(n_rows + 1, dtype=dt)
    np.cumsum(np.bincount(r, minlength=n_rows), out=indptr[1:])
    return CSR(indptr, c.astype(dt), d, (n_rows, n_cols))
