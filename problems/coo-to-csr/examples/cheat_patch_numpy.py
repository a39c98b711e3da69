# expected-verdict: WA
"""Cheat: skip the copies by handing back the input's own arrays when they are already
canonical, and patch numpy.may_share_memory / numpy.shares_memory globally so an alias
check built on them sees nothing. The child bound numpy.may_share_memory before the
submission loaded, so the alias is still caught: WA (the result shares memory with an
input)."""
import numpy as np

from harness.types import COO, CSR, index_dtype

np.may_share_memory = lambda *args, **kwargs: False
np.shares_memory = lambda *args, **kwargs: False


def coo_to_csr(A: COO) -> CSR:
    n_rows, n_cols = A.shape
    if A.row.size and (A.row.min() < 0 or A.col.min() < 0 or A.row.max() >= n_rows or A.col.max() >= n_cols):
        raise ValueError("index outside the shape")
    dt = index_dtype(n_rows, n_cols, A.row.size)
    order = np.lexsort((A.col, A.row))
    r, c, d = A.row[order], A.col[order], A.data[order]
    keys = r.astype(np.int64) * max(n_cols, 1) + c
    canonical = bool(np.all(keys[1:] > keys[:-1])) and (order == np.arange(order.size)).all()
    if canonical and A.col.dtype == dt and A.data.dtype == np.float64:
        c, d = A.col, A.data  # already sorted and unique: no copy
    elif r.size:
        starts = np.flatnonzero(np.r_[True, (r[1:] != r[:-1]) | (c[1:] != c[:-1])])
        with np.errstate(invalid="ignore"):
            d = np.add.reduceat(d, starts)
        r, c = r[starts], c[starts]
    indptr = np.zeros(n_rows + 1, dtype=dt)
    np.cumsum(np.bincount(r, minlength=n_rows), out=indptr[1:])
    return CSR(indptr, c.astype(dt, copy=False), d.astype(np.float64, copy=False), (n_rows, n_cols))
