# expected-verdict: AC
# grade-plan: quick
# expected-flag: cores
"""Class 2, a helper process through ctypes: each call forks (libc's fork, no audit event) a
helper that computes the sort order into shared memory while the parent computes the row counts,
and reaps it before returning, so no process is left for anyone to count. The helper's CPU is in
the child's cgroup all the same, and not in its main thread: flagged `cores`."""
import ctypes
import mmap
import os

import numpy as np

from harness.types import COO, CSR, index_dtype

_libc = ctypes.CDLL(None, use_errno=True)


def coo_to_csr(A: COO) -> CSR:
    n_rows, n_cols = A.shape
    if A.row.size and (A.row.min() < 0 or A.col.min() < 0 or A.row.max() >= n_rows or A.col.max() >= n_cols):
        raise ValueError("index outside the shape")
    n = A.row.size
    shared = mmap.mmap(-1, max(8, 8 * n))  # anonymous and shared: the helper's writes are seen here
    order = np.frombuffer(shared, dtype=np.int64, count=n)
    pid = _libc.fork()
    if pid == 0:  # the helper
        order[:] = np.lexsort((A.col, A.row))
        os._exit(0)
    counts = np.bincount(A.row, minlength=n_rows)  # meanwhile, in the parent
    status = ctypes.c_int()
    _libc.waitpid(pid, ctypes.byref(status), 0)
    order = order.copy()
    r, c, d = A.row[order], A.col[order], A.data[order]
    if r.size:
        starts = np.flatnonzero(np.r_[True, (r[1:] != r[:-1]) | (c[1:] != c[:-1])])
        with np.errstate(invalid="ignore"):
            d = np.add.reduceat(d, starts)
        r, c = r[starts], c[starts]
        counts = np.bincount(r, minlength=n_rows)
    dt = index_dtype(n_rows, n_cols, r.size)
    indptr = np.zeros(n_rows + 1, dtype=dt)
    np.cumsum(counts, out=indptr[1:])
    return CSR(indptr, c.astype(dt), d.astype(np.float64), (n_rows, n_cols))
