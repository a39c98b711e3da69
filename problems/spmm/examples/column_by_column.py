# expected-verdict: AC
# grade-plan: quick
"""Correct, and a common first attempt: k separate SpMVs, one per column of X. Each pass
re-reads the whole of A and gathers from a strided column of X (a cache line for every
8 bytes used), so it does k times the matrix traffic of a row-wise SpMM."""
import numpy as np

from harness.types import CSR


def spmm(A: CSR, X: np.ndarray) -> np.ndarray:
    n_rows, n_cols = A.shape
    if X.ndim != 2 or X.shape[0] != n_cols:
        raise ValueError(f"X has shape {X.shape}, expected ({n_cols}, k)")
    rows = np.repeat(np.arange(n_rows), np.diff(A.indptr))
    Y = np.zeros((n_rows, X.shape[1]))
    with np.errstate(invalid="ignore"):
        for c in range(X.shape[1]):
            Y[:, c] = np.bincount(rows, weights=A.data * X[A.indices, c], minlength=n_rows)
    return Y
