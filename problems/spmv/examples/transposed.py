# expected-verdict: WA
"""Honest mistake: reads CSR as if it were CSC (indptr as column pointers), so it computes
Aᵀ·x. On the seed note's 4x4 example it returns [0, 10, 0, 21] instead of [0, 10, 28, 0]."""
import numpy as np

from harness.types import CSR


def spmv(A: CSR, x: np.ndarray) -> np.ndarray:
    n_rows, n_cols = A.shape
    if x.shape != (n_cols,):
        raise ValueError(f"x has shape {x.shape}, expected ({n_cols},)")
    y = np.zeros(n_rows)
    for j in range(n_rows):  # mistake: j is a row of A, not a column
        for p in range(A.indptr[j], A.indptr[j + 1]):
            y[A.indices[p]] += A.data[p] * x[j]
    return y
