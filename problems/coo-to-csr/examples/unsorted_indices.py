# expected-verdict: WA
"""Honest mistake: a counting sort by row that sums duplicates, but leaves each row's
columns in input order (valid CSR for scipy, not canonical)."""
import numpy as np

from harness.types import COO, CSR, index_dtype


def coo_to_csr(A: COO) -> CSR:
    n_rows, n_cols = A.shape
    if A.row.size and (A.row.min() < 0 or A.col.min() < 0 or A.row.max() >= n_rows or A.col.max() >= n_cols):
        raise ValueError("index outside the shape")
    merged: dict[tuple[int, int], float] = {}
    for key, v in zip(zip(A.row.tolist(), A.col.tolist()), A.data.tolist()):
        merged[key] = merged.get(key, 0.0) + v  # dicts keep first-seen order: columns stay unsorted
    order = sorted(merged, key=lambda rc: rc[0])  # stable: sorts rows only
    dt = index_dtype(n_rows, n_cols, len(order))
    indptr = np.zeros(n_rows + 1, dtype=dt)
    np.cumsum(np.bincount([r for r, _ in order], minlength=n_rows), out=indptr[1:])
    return CSR(indptr, np.array([c for _, c in order], dtype=dt),
               np.array([merged[k] for k in order], dtype=np.float64), (n_rows, n_cols))
