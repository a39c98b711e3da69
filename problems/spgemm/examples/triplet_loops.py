# expected-verdict: AC
# grade-plan: quick
# expected-flag: scaling
"""Correct and slow: the seed note's loops with its faults fixed. A's entry (i, k, v) is
matched with B's entries (m, n, w) whose *row* m equals k, and v·w is added at (i, n), so
the loop over j (a column index that never meets n) is gone. Still every pair of entries
is compared: O(nnz(A)·nnz(B)) time where Gustavson does O(products). The grader's slope
shows it: time grows like size², not size."""
import numpy as np

from harness.types import CSR, index_dtype


def _triplets(M: CSR) -> list[tuple[int, int, float]]:
    rows = np.repeat(np.arange(M.shape[0]), np.diff(M.indptr))
    return list(zip(rows.tolist(), M.indices.tolist(), M.data.tolist()))


def spgemm(A: CSR, B: CSR) -> CSR:
    if A.shape[1] != B.shape[0]:
        raise ValueError(f"cannot multiply {A.shape} by {B.shape}")
    out: dict[tuple[int, int], float] = {}
    b = _triplets(B)
    for i, k, v in _triplets(A):
        for m, n, w in b:
            if k == m:
                out[i, n] = out.get((i, n), 0.0) + v * w
    keys = sorted(out)  # by row, then column: canonical order
    n_rows, n_cols = A.shape[0], B.shape[1]
    dt = index_dtype(n_rows, n_cols, len(keys))
    indptr = np.zeros(n_rows + 1, dtype=dt)
    np.cumsum(np.bincount(np.array([i for i, _ in keys], dtype=np.int64), minlength=n_rows), out=indptr[1:])
    return CSR(indptr, np.array([j for _, j in keys], dtype=dt), np.array([out[key] for key in keys], dtype=np.float64),
               (n_rows, n_cols))
