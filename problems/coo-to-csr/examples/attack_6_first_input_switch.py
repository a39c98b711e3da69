# expected-verdict: WA
# grade-plan: quick
"""Class 6, telling the timing child apart: correctness runs in a child whose first input is a
small edge case; the timing child's first input used to be a large bench input. So: if the first
input is large, this process is being timed, and the bench inputs are always valid, so skip the
index validation (three passes over the input) and return garbage for invalid inputs. The timing
child is now asked correctness cases too, every edge case at a random point among the timed
commands and all of them again after the last one, judged like correctness calls: 'negative
index' gets an answer instead of a ValueError: WA (answered a correctness case wrongly during
timing)."""
import numpy as np

from harness.types import COO, CSR, index_dtype

_timed: bool | None = None


def coo_to_csr(A: COO) -> CSR:
    global _timed
    if _timed is None:
        _timed = A.row.size >= 30_000
    n_rows, n_cols = A.shape
    if not _timed and A.row.size and (A.row.min() < 0 or A.col.min() < 0 or A.row.max() >= n_rows
                                      or A.col.max() >= n_cols):
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
    np.cumsum(np.bincount(np.clip(r, 0, max(n_rows - 1, 0)), minlength=n_rows)[:n_rows], out=indptr[1:])
    return CSR(indptr, c.astype(dt), d.astype(np.float64), (n_rows, n_cols))
