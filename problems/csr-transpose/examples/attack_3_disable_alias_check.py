# expected-verdict: AC
"""Class 3, switching off the alias check (not caught, and nothing to gain): like
cheat_return_view, hand back A.data itself for a single-row matrix, after replacing the
child's bound numpy.may_share_memory (__main__._tools) so the alias check sees nothing. The
check runs inside the child, so the submission can disable it: it is a contract check, kept
as a courtesy. Nothing depends on it any more: inputs are read-only mappings the submission
cannot change, and every result is copied out to the grader, so a view of an input saves
nothing the grader ranks. AC, as the contract check is defeated."""
import sys

import numpy as np

from harness.types import CSR, index_dtype

_main = sys.modules.get("__main__")
if _main is not None and isinstance(getattr(_main, "_tools", None), dict):
    _main._tools["may_share"] = lambda *a, **k: False


def csr_transpose(A: CSR) -> CSR:
    n_rows, n_cols = A.shape
    rows = np.repeat(np.arange(n_rows, dtype=np.int64), np.diff(A.indptr.astype(np.int64)))
    order = np.argsort(A.indices, kind="stable")
    dt = index_dtype(n_rows, n_cols, A.indices.size)
    indptr = np.zeros(n_cols + 1, dtype=dt)
    np.cumsum(np.bincount(A.indices, minlength=n_cols), out=indptr[1:])
    data = A.data if n_rows == 1 and A.data.dtype == np.float64 else A.data[order].astype(np.float64)
    return CSR(indptr, rows[order].astype(dt), data, (n_cols, n_rows))
