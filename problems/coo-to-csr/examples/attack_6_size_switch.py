# expected-verdict: AC
# grade-plan: quick
"""Class 6, per input rather than per phase (NOT caught, by design): skip the index validation
whenever an input is at least as large as the smallest bench size. Every correctness case, and
so every replay, is smaller, and every bench input is valid, so no call the grader makes can
tell: AC. This is specialisation on a property of the input, not on the phase: the code timed
on a bench-size input is the code any bench-size input gets. Catching it takes a correctness
case of bench size that must raise, which is the problem's to add (an edge case), not the
grader's."""
import numpy as np

from harness.types import COO, CSR, index_dtype


def coo_to_csr(A: COO) -> CSR:
    n_rows, n_cols = A.shape
    if A.row.size < 30_000 and A.row.size and (A.row.min() < 0 or A.col.min() < 0 or A.row.max() >= n_rows
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
    np.cumsum(np.bincount(r, minlength=n_rows), out=indptr[1:])
    return CSR(indptr, c.astype(dt), d.astype(np.float64), (n_rows, n_cols))
