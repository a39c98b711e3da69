# expected-verdict: WA
"""Class 7, a result of gigabytes that costs nothing to make: a zero-stride view
(np.broadcast_to) of one float, 2**33 elements long, as the CSR's data, and indices to match.
Serialised naively it expands to 64 GiB in whoever reads it. Results are measured in full
(zero-stride views count their logical size) and bounded by the memory limit before a byte is
sent: WA (the result is not plain data: more bytes than allowed). The grader never sees it."""
import numpy as np

from harness.types import COO, CSR


def coo_to_csr(A: COO) -> CSR:
    n_rows, n_cols = A.shape
    if A.row.size and (A.row.min() < 0 or A.col.min() < 0 or A.row.max() >= n_rows or A.col.max() >= n_cols):
        raise ValueError("index outside the shape")
    huge = 1 << 33
    indptr = np.broadcast_to(np.int64(huge), (n_rows + 1,)).copy()
    indptr[0] = 0
    return CSR(indptr, np.broadcast_to(np.int64(0), (huge,)), np.broadcast_to(np.float64(0.0), (huge,)),
               (n_rows, n_cols))
