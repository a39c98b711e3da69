# expected-verdict: WA
"""Honest mistake: `Y[rows] += products` with a repeated row index does not add twice.
NumPy's fancy-index `+=` is a buffered read-modify-write, so each row keeps the *last*
product only. Rows with one entry (the seed note's example) come out right; the first row
with two entries does not. `np.add.at(Y, rows, products)` is the unbuffered version."""
import numpy as np

from harness.types import CSR


def spmm(A: CSR, X: np.ndarray) -> np.ndarray:
    n_rows, n_cols = A.shape
    if X.ndim != 2 or X.shape[0] != n_cols:
        raise ValueError(f"X has shape {X.shape}, expected ({n_cols}, k)")
    rows = np.repeat(np.arange(n_rows), np.diff(A.indptr))
    Y = np.zeros((n_rows, X.shape[1]))
    with np.errstate(invalid="ignore"):
        Y[rows] += A.data[:, None] * X[A.indices]
    return Y
