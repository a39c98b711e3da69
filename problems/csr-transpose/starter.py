"""csr-transpose: return the canonical CSR of A transposed (equivalently, the CSC of A).

Read the statement: `sparsebench show csr-transpose`. Grade: `sparsebench grade csr-transpose THIS_FILE`.
"""
import numpy as np

from harness.types import CSR, index_dtype  # index_dtype(rows, cols, nnz) -> int32 or int64


def csr_transpose(A: CSR) -> CSR:
    n_rows, n_cols = A.shape
    # 1. count the entries of each column of A -> the transpose's indptr (prefix sum)
    # 2. walk A's rows in order, dropping each entry into its column's next free slot
    raise NotImplementedError("write csr_transpose")
