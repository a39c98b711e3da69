# expected-verdict: WA
# grade-plan: quick
"""Cheat: remember each answer under id() of the input's data array, as if the benchmark
sent the same object on every timed rep. It stays honest on small inputs, so it passes
correctness. In the timed calls every input is a fresh array with new values, but
CPython gives a freed object's address (its id) to the next one, so the cache hands
back the previous rep's answer; every timed output is checked, so the grade is WA."""
import numpy as np

from harness.types import COO, CSR, index_dtype

_cache: dict[int, CSR] = {}


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
    if A.data.size < 30_000:  # the correctness cases: play it straight
        return _convert(A)
    key = id(A.data)
    if key not in _cache:
        _cache[key] = _convert(A)
    return _cache[key]
