"""csr-transpose, Numba reference: the counting sort scipy calls csr_tocsc.

Pass 1 counts entries per column, a prefix sum turns counts into the transpose's
indptr, pass 2 walks A row by row and drops each entry into its column's next slot.
Rows are visited in order, so every output row comes out sorted: O(nnz + rows + cols).
"""
import numba
import numpy as np

from harness.types import CSR, index_dtype


@numba.njit(cache=True)
def _transpose(indptr, indices, data, n_rows, n_cols, t_indptr, t_indices, t_data):
    t_indptr[:] = 0
    for p in range(indices.size):  # count entries per column
        t_indptr[indices[p] + 1] += 1
    for j in range(n_cols):  # prefix sum: where each column starts
        t_indptr[j + 1] += t_indptr[j]
    nxt = t_indptr[:-1].astype(np.int64)  # next free slot per column
    for i in range(n_rows):
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            q = nxt[j]
            t_indices[q] = i
            t_data[q] = data[p]
            nxt[j] = q + 1


def _unsigned(a: np.ndarray) -> np.ndarray:
    return a.view(np.uint64 if a.itemsize == 8 else np.uint32) if a.dtype.kind == "i" else a


def csr_transpose(A: CSR) -> CSR:
    n_rows, n_cols = int(A.shape[0]), int(A.shape[1])
    nnz = A.indices.size
    dt = index_dtype(n_rows, n_cols, nnz)
    t_indptr = np.empty(n_cols + 1, dtype=dt)
    t_indices = np.empty(nnz, dtype=dt)
    t_data = np.empty(nnz, dtype=np.float64)
    # a canonical input has indices in [0, n_cols): unsigned views skip Numba's wraparound code
    _transpose(_unsigned(A.indptr), _unsigned(A.indices), A.data, n_rows, n_cols, t_indptr, t_indices, t_data)
    return CSR(t_indptr, t_indices, t_data, (n_cols, n_rows))
