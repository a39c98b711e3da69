# expected-verdict: AC
# grade-plan: quick
"""Correct but slow: the textbook double loop in plain Python. O(nnz + rows), like the
reference, but each multiply-add costs an interpreter round trip (~100x slower)."""
import numpy as np

from harness.types import CSR


def spmv(A: CSR, x: np.ndarray) -> np.ndarray:
    n_rows, n_cols = A.shape
    if x.shape != (n_cols,):
        raise ValueError(f"x has shape {x.shape}, expected ({n_cols},)")
    indptr, indices, data, xs = A.indptr.tolist(), A.indices.tolist(), A.data.tolist(), x.tolist()
    y = [0.0] * n_rows
    for i in range(n_rows):
        s = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            s += data[p] * xs[indices[p]]
        y[i] = s
    return np.array(y, dtype=np.float64)
