"""csr-transpose with scipy.sparse (A.T is a free CSC view; tocsr() does the counting sort)."""
import numpy as np
import scipy.sparse as sp

from harness.types import CSR, index_dtype


def csr_transpose(A: CSR) -> CSR:
    M = sp.csr_array((A.data, A.indices, A.indptr), shape=A.shape).T.tocsr()
    dt = index_dtype(*M.shape, M.nnz)
    return CSR(M.indptr.astype(dt, copy=False), M.indices.astype(dt, copy=False),
               M.data.astype(np.float64, copy=False), M.shape)
