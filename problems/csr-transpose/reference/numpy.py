"""csr-transpose, vectorised NumPy reference (the oracle): a stable argsort of the column
indices lists each column's entries in row order."""
import numpy as np

from harness.types import CSR, index_dtype


def csr_transpose(A: CSR) -> CSR:
    n_rows, n_cols = int(A.shape[0]), int(A.shape[1])
    indptr = np.asarray(A.indptr)
    rows = np.repeat(np.arange(n_rows, dtype=np.int64), np.diff(indptr.astype(np.int64)))
    order = np.argsort(A.indices, kind="stable")  # by column; ties keep row order
    dt = index_dtype(n_rows, n_cols, A.indices.size)
    t_indptr = np.zeros(n_cols + 1, dtype=dt)
    np.cumsum(np.bincount(A.indices, minlength=n_cols), out=t_indptr[1:])
    return CSR(t_indptr, rows[order].astype(dt), A.data[order].astype(np.float64), (n_cols, n_rows))
