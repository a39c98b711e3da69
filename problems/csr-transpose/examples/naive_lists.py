# expected-verdict: AC
"""Correct but slow: one Python list per output row, filled by walking A's rows in order."""
import numpy as np

from harness.types import CSR, index_dtype


def csr_transpose(A: CSR) -> CSR:
    n_rows, n_cols = A.shape
    columns: list[list[tuple[int, float]]] = [[] for _ in range(n_cols)]
    indptr, indices, data = A.indptr.tolist(), A.indices.tolist(), A.data.tolist()
    for i in range(n_rows):
        for p in range(indptr[i], indptr[i + 1]):
            columns[indices[p]].append((i, data[p]))
    t_indptr, t_indices, t_data = [0], [], []
    for col in columns:
        for i, v in col:
            t_indices.append(i)
            t_data.append(v)
        t_indptr.append(len(t_indices))
    dt = index_dtype(n_rows, n_cols, len(t_indices))
    return CSR(np.array(t_indptr, dtype=dt), np.array(t_indices, dtype=dt), np.array(t_data, dtype=np.float64),
               (n_cols, n_rows))
