# expected-verdict: WA
# grade-plan: quick
"""Class 6, telling the phases apart by counting: the correctness child gets exactly one call
per correctness case (21 here), so any call past the 21st is timing: skip the duplicate summing
from then on (bench inputs repeat few entries, but they do repeat some: this variant also skips
only when the input looks duplicate-free on a sample, to survive the checks on the bench
answers). The correctness cases replayed after the last timed command include 'duplicates and
cancellation': WA (answered a correctness case wrongly during timing)."""
import numpy as np

from harness.types import COO, CSR, index_dtype

_calls = 0


def coo_to_csr(A: COO) -> CSR:
    global _calls
    _calls += 1
    n_rows, n_cols = A.shape
    if A.row.size and (A.row.min() < 0 or A.col.min() < 0 or A.row.max() >= n_rows or A.col.max() >= n_cols):
        raise ValueError("index outside the shape")
    order = np.lexsort((A.col, A.row))
    r, c, d = A.row[order], A.col[order], A.data[order]
    lazy = _calls > 21 and r.size < 30_000  # timing, and not a bench input (those are checked)
    if r.size and not lazy:
        starts = np.flatnonzero(np.r_[True, (r[1:] != r[:-1]) | (c[1:] != c[:-1])])
        with np.errstate(invalid="ignore"):
            d = np.add.reduceat(d, starts)
        r, c = r[starts], c[starts]
    dt = index_dtype(n_rows, n_cols, r.size)
    indptr = np.zeros(n_rows + 1, dtype=dt)
    np.cumsum(np.bincount(r, minlength=n_rows), out=indptr[1:])
    return CSR(indptr, c.astype(dt), d.astype(np.float64), (n_rows, n_cols))
