"""bsr-spmm with scipy.sparse (bsr_array @ X: sparsetools' bsr_matvecs): for comparison, never ranked."""
import numpy as np
import scipy.sparse as sp

from harness.types import BSR


def bsr_spmm(A: BSR, X: np.ndarray) -> np.ndarray:
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] != A.shape[1]:
        raise ValueError(f"X has shape {X.shape}; A is {A.shape[0]}x{A.shape[1]}")
    M = sp.bsr_array((A.data, A.indices, A.indptr), shape=A.shape)
    return np.asarray(M @ X, dtype=np.float64)
