"""spmm: return Y = A·X for a CSR matrix A and a dense matrix X of shape (cols, k).

Read the statement: `sparsebench show spmm`. Grade: `sparsebench grade spmm THIS_FILE`.
"""
import numpy as np

from harness.types import CSR


def spmm(A: CSR, X: np.ndarray) -> np.ndarray:
    n_rows, n_cols = A.shape
    # 1. raise ValueError unless X is 2-D with n_cols rows
    # 2. for each row i and each stored entry (i, j, a): Y[i, :] += a * X[j, :]
    # 3. return a new float64 array of shape (n_rows, k) (empty rows are zeros)
    raise NotImplementedError("write spmm")
