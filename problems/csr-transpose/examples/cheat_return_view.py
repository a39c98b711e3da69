# expected-verdict: WA
"""Cheat: skip a copy. When A has a single row its entries are already in the transpose's
order, so hand back A.data itself. The result then shares memory with the input, which
the child checks after every call: WA (return new arrays)."""
import numpy as np

from harness.types import CSR, index_dtype


def csr_transpose(A: CSR) -> CSR:
    n_rows, n_cols = A.shape
    rows = np.repeat(np.arange(n_rows, dtype=np.int64), np.diff(A.indptr.astype(np.int64)))
    order = np.argsort(A.indices, kind="stable")
    dt = index_dtype(n_rows, n_cols, A.indices.size)
    indptr = np.zeros(n_cols + 1, dtype=dt)
    np.cumsum(np.bincount(A.indices, minlength=n_cols), out=indptr[1:])
    data = A.data if n_rows == 1 and A.data.dtype == np.float64 else A.data[order].astype(np.float64)
    return CSR(indptr, rows[order].astype(dt), data, (n_cols, n_rows))
