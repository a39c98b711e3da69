# expected-verdict: AC
"""Correct but slow: a dict of dicts, then sorted keys. O(nnz log nnz) in Python objects."""
import numpy as np

from harness.types import COO, CSR, index_dtype


def coo_to_csr(A: COO) -> CSR:
    n_rows, n_cols = A.shape
    rows: dict[int, dict[int, float]] = {}
    for r, c, v in zip(A.row.tolist(), A.col.tolist(), A.data.tolist()):
        if not (0 <= r < n_rows and 0 <= c < n_cols):
            raise ValueError(f"index ({r}, {c}) outside shape {A.shape}")
        row = rows.setdefault(r, {})
        row[c] = row.get(c, 0.0) + v
    indptr, indices, data = [0], [], []
    for r in range(n_rows):
        for c in sorted(rows.get(r, {})):
            indices.append(c)
            data.append(rows[r][c])
        indptr.append(len(indices))
    dt = index_dtype(n_rows, n_cols, len(indices))
    return CSR(np.array(indptr, dtype=dt), np.array(indices, dtype=dt), np.array(data, dtype=np.float64),
               (n_rows, n_cols))
