# expected-verdict: WA
"""Honest mistake: Gustavson's algorithm with a dict per row, which is right and fast
enough, but the row is written out in the order columns were first touched, not sorted.
That is a valid CSR for scipy (which marks it `has_sorted_indices = False`), not the
canonical form the contract asks for; the first row whose products arrive out of column
order fails."""
import numpy as np

from harness.types import CSR, index_dtype


def spgemm(A: CSR, B: CSR) -> CSR:
    if A.shape[1] != B.shape[0]:
        raise ValueError(f"cannot multiply {A.shape} by {B.shape}")
    indptr, indices, data = [0], [], []
    a_ptr, a_idx, a_val = A.indptr.tolist(), A.indices.tolist(), A.data.tolist()
    b_ptr, b_idx, b_val = B.indptr.tolist(), B.indices.tolist(), B.data.tolist()
    for i in range(A.shape[0]):
        row: dict[int, float] = {}
        for p in range(a_ptr[i], a_ptr[i + 1]):
            k, v = a_idx[p], a_val[p]
            for q in range(b_ptr[k], b_ptr[k + 1]):
                row[b_idx[q]] = row.get(b_idx[q], 0.0) + v * b_val[q]
        indices.extend(row)  # mistake: insertion order, not sorted(row)
        data.extend(row.values())
        indptr.append(len(indices))
    dt = index_dtype(A.shape[0], B.shape[1], len(indices))
    return CSR(np.array(indptr, dtype=dt), np.array(indices, dtype=dt), np.array(data, dtype=np.float64),
               (A.shape[0], B.shape[1]))
