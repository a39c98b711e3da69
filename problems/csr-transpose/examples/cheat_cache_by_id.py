# expected-verdict: WA
# grade-plan: quick
"""Cheat: remember each answer under id() of the input's data array, as if the benchmark
sent the same object on every timed rep. It stays honest on small inputs, so it passes
correctness. In the timed calls every input is a fresh array with new values, but
CPython gives a freed object's address (its id) to the next one, so the cache hands
back the previous rep's answer; every timed output is checked, so the grade is WA."""
import numpy as np

from harness.types import CSR, index_dtype

_cache: dict[int, CSR] = {}


def _transpose(A: CSR) -> CSR:
    n_rows, n_cols = A.shape
    rows = np.repeat(np.arange(n_rows, dtype=np.int64), np.diff(A.indptr.astype(np.int64)))
    order = np.argsort(A.indices, kind="stable")
    dt = index_dtype(n_rows, n_cols, A.indices.size)
    indptr = np.zeros(n_cols + 1, dtype=dt)
    np.cumsum(np.bincount(A.indices, minlength=n_cols), out=indptr[1:])
    return CSR(indptr, rows[order].astype(dt), A.data[order].astype(np.float64), (n_cols, n_rows))


def csr_transpose(A: CSR) -> CSR:
    if A.indices.size < 25_000:  # the correctness cases: play it straight
        return _transpose(A)
    key = id(A.data)
    if key not in _cache:
        _cache[key] = _transpose(A)
    return _cache[key]
