# expected-verdict: WA
"""Cheat: reuse the input's buffers as scratch space (here: overwrite A.indices with the
sort permutation's keys). The answer would be right, but the inputs are read-only
mappings of a file the child cannot write, so the first write raises: WA (the call
modified its input arrays)."""
import numpy as np

from harness.types import CSR, index_dtype


def csr_transpose(A: CSR) -> CSR:
    n_rows, n_cols = A.shape
    rows = np.repeat(np.arange(n_rows, dtype=np.int64), np.diff(A.indptr.astype(np.int64)))
    order = np.argsort(A.indices, kind="stable")
    dt = index_dtype(n_rows, n_cols, A.indices.size)
    indptr = np.zeros(n_cols + 1, dtype=dt)
    np.cumsum(np.bincount(A.indices, minlength=n_cols), out=indptr[1:])
    data = A.data[order].astype(np.float64)
    A.indices.sort()  # scratch: nobody needs the input any more, surely
    return CSR(indptr, rows[order].astype(dt), data, (n_cols, n_rows))
