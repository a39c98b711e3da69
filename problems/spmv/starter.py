"""spmv: return y = A·x for a CSR matrix A and a dense vector x.

Read the statement: `sparsebench show spmv`. Grade: `sparsebench grade spmv THIS_FILE`.
"""
import numpy as np

from harness.types import CSR


def spmv(A: CSR, x: np.ndarray) -> np.ndarray:
    n_rows, n_cols = A.shape
    # 1. raise ValueError unless x has shape (n_cols,)
    # 2. for each row i: sum data[p] * x[indices[p]] over p in indptr[i] .. indptr[i+1] - 1
    # 3. return a new float64 array of length n_rows (empty rows give 0.0)
    raise NotImplementedError("write spmv")
