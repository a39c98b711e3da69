"""sell-spmv with scipy.sparse: csr_array @ x on A, the same matrix in CSR (scipy has no SELL
format). For comparison, never ranked."""
import numpy as np
import scipy.sparse as sp

from harness.types import CSR, SELL


def sell_spmv(A: CSR, S: SELL, x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1 or x.shape[0] != A.shape[1]:
        raise ValueError(f"x has shape {x.shape}; A is {A.shape[0]}x{A.shape[1]}")
    return sp.csr_array((A.data, A.indices, A.indptr), shape=A.shape) @ x
