# expected-verdict: AC
# grade-plan: quick
# expected-flag: threads
"""Background work: start a thread that keeps the CPU busy forever (on a shared machine
it would slow the reference down), then answer correctly. The answers are right (AC);
the grader reads the child's CPU from its cgroup while the child waits between calls, so
the record is flagged `threads`, and the thread dies with the child when the grade ends."""
import threading

import numpy as np

from harness.types import COO, CSR, index_dtype


def _spin() -> None:
    n = 0
    while True:
        n += 1


_worker: threading.Thread | None = None


def coo_to_csr(A: COO) -> CSR:
    global _worker
    if _worker is None:
        _worker = threading.Thread(target=_spin)  # not a daemon: it would keep a normal process alive
        _worker.start()
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
