"""spgemm with scipy.sparse (`A @ B` is SMMP: a symbolic pass, then a numeric pass that
leaves each row's columns unsorted; `sort_indices()` makes it canonical): for comparison,
never ranked. scipy's symbolic pass allocates an array over B's columns, like Gustavson."""
import numpy as np
import scipy.sparse as sp

from harness.types import CSR, index_dtype


def spgemm(A: CSR, B: CSR) -> CSR:
    if A.shape[1] != B.shape[0]:
        raise ValueError(f"cannot multiply {A.shape[0]}x{A.shape[1]} by {B.shape[0]}x{B.shape[1]}")
    C = sp.csr_array((A.data, A.indices, A.indptr), shape=A.shape) @ sp.csr_array((B.data, B.indices, B.indptr),
                                                                                   shape=B.shape)
    C.sort_indices()
    dt = index_dtype(*C.shape, C.nnz)
    return CSR(C.indptr.astype(dt, copy=False), C.indices.astype(dt, copy=False),
               C.data.astype(np.float64, copy=False), C.shape)
