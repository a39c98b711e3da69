"""spmm with scipy.sparse (csr_matvecs: one axpy of X's row per stored entry): for
comparison, never ranked."""
import numpy as np
import scipy.sparse as sp

from harness.types import CSR


def spmm(A: CSR, X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] != A.shape[1]:
        raise ValueError(f"X has shape {X.shape}; A is {A.shape[0]}x{A.shape[1]}")
    return sp.csr_array((A.data, A.indices, A.indptr), shape=A.shape) @ X
