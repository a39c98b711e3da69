"""coo-to-csr with scipy.sparse: for comparison, never ranked."""
import numpy as np
import scipy.sparse as sp

from harness.types import COO, CSR, index_dtype


def coo_to_csr(A: COO) -> CSR:
    rows, cols = A.shape
    if A.row.size and (A.row.min() < 0 or A.col.min() < 0 or A.row.max() >= rows or A.col.max() >= cols):
        raise ValueError(f"an index lies outside the shape {A.shape}")
    M = sp.coo_array((A.data, (A.row, A.col)), shape=A.shape).tocsr()  # sums duplicates, sorts rows
    M.sort_indices()
    dt = index_dtype(rows, cols, M.nnz)  # scipy keeps int64 from int64 input; the contract does not
    return CSR(M.indptr.astype(dt, copy=False), M.indices.astype(dt, copy=False),
               M.data.astype(np.float64, copy=False), M.shape)
