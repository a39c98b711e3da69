# expected-verdict: AC
# grade-plan: quick
# expected-flag: timer
"""Class 7, a clock that never moves: replace the child's clock (__main__._clock) with a
constant, so every call reports 0 s. The old grader divided by the median of those times
(ZeroDivisionError inside the grader) or ranked an infinite score first, which broke the HTML
page for everyone. The grader ranks its own clock now, which always moves; the child's zero is a
claim its clock contradicts, flagged `timer`, and the score is finite (a zero or non-finite time
anywhere is flagged and never ranked)."""
import sys

import numpy as np

from harness.types import COO, CSR, index_dtype

_main = sys.modules.get("__main__")
if _main is not None and hasattr(_main, "_clock"):
    _main._clock = lambda: 1000.0


def coo_to_csr(A: COO) -> CSR:
    n_rows, n_cols = A.shape
    if A.row.size and (A.row.min() < 0 or A.col.min() < 0 or A.row.max() >= n_rows or A.col.max() >= n_cols):
        raise ValueError("index outside the shape")
    order = np.lexsort((A.col, A.row))
    r, c, d = A.row[order], A.col[order], A.data[order]
    if r.size:
        starts = np.flatnonzero(np.r_[True, (r[1:] != r[:-1]) | (c[1:] != c[:-1])])
        with np.errstate(invalid="ignore"):
            d = np.add.reduceat(d, starts)
        r, c = r[starts], c[starts]
    dt = index_dtype(n_rows, n_cols, r.size)
    indptr = np.zeros(n_rows + 1, dtype=dt)
    np.cumsum(np.bincount(r, minlength=n_rows), out=indptr[1:])
    return CSR(indptr, c.astype(dt), d.astype(np.float64), (n_rows, n_cols))
