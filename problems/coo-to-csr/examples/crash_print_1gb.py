# expected-verdict: AC
"""Output flood: print 1 GiB on the first call, then answer correctly. Printing is not
wrong, so the honest verdict is AC; the grader drains the pipe as it fills (the child
never blocks), keeps only the first and last few KiB, and the record says how many
bytes were cut (record["sandbox"]["output"]["cut_bytes"])."""
import sys

import numpy as np

from harness.types import COO, CSR, index_dtype

_printed = False


def coo_to_csr(A: COO) -> CSR:
    global _printed
    if not _printed:
        _printed = True
        line = b"spam " * 209715 + b"\n"  # 1 MiB
        for _ in range(1024):
            sys.stdout.buffer.write(line)
        sys.stdout.flush()
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
