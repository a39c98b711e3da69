# expected-verdict: AC
# grade-plan: quick
# expected-flag: timer
"""Class 1, a slowed clock: swap the clock the child times calls with (its __main__._clock) for
one that runs at 1/8 speed, then convert honestly. The old grader ranked the child's own time and
flagged a gap only beyond an allowance that grew with the harness's per-call work (the input
hash), so the 8x score went unflagged. The grader now ranks its own clock, from the 'go' it sends
to the reply line it reads: the score is the honest one, and the child's clock, which disagrees
with the grader's by far more than a round trip, is flagged `timer`."""
import sys
import time

import numpy as np

from harness.types import COO, CSR, index_dtype

_main = sys.modules.get("__main__")
if _main is not None and hasattr(_main, "_clock"):
    _real = time.perf_counter
    _t0 = _real()
    _main._clock = lambda: _t0 + (_real() - _t0) / 8


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
