# expected-verdict: AC
# grade-plan: quick
"""Cheat that cannot pay off: remember each answer under a hash of the input's bytes.
The grader never sends the same input twice (each case and each timed rep has its own
seed), so the cache never hits; the answers are all computed honestly and the time
includes the hashing. Honest verdict: AC, at its real, slower speed."""
import hashlib

import numpy as np

from harness.types import COO, CSR, index_dtype

_cache: dict[str, CSR] = {}


def _convert(A: COO) -> CSR:
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


def coo_to_csr(A: COO) -> CSR:
    h = hashlib.blake2b(repr(A.shape).encode())
    for a in (A.row, A.col, A.data):
        h.update(str(a.dtype).encode())
        h.update(np.ascontiguousarray(a).tobytes())
    key = h.hexdigest()
    if key not in _cache:
        _cache[key] = _convert(A)
    return _cache[key]
