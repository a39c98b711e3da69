# expected-verdict: AC
# grade-plan: quick
"""Cheat: freeze time.perf_counter (and its friends) so any timer that reads them sees
zero, then take 20 ms per timed call. The child bound its clock before importing the
submission, so the patch fools nobody: AC, and the score shows the real, slow time."""
import time

import numpy as np

from harness.types import COO, CSR, index_dtype

_frozen = time.perf_counter()
for _name in ("perf_counter", "monotonic", "process_time", "time"):
    setattr(time, _name, lambda: _frozen)
for _name in ("perf_counter_ns", "monotonic_ns", "process_time_ns", "time_ns"):
    setattr(time, _name, lambda: int(_frozen * 1e9))


def coo_to_csr(A: COO) -> CSR:
    n_rows, n_cols = A.shape
    if A.row.size and (A.row.min() < 0 or A.col.min() < 0 or A.row.max() >= n_rows or A.col.max() >= n_cols):
        raise ValueError("index outside the shape")
    if A.data.size >= 30_000:
        time.sleep(0.02)  # the timed calls: slow work that a frozen clock would hide
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
