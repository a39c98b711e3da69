"""spgemm: return C = A·B for CSR matrices A and B, as a canonical CSR.

Read the statement: `sparsebench show spgemm`. Grade: `sparsebench grade spgemm THIS_FILE`.
"""
import numpy as np

from harness.types import CSR, index_dtype  # index_dtype(rows, cols, nnz) -> int32 or int64


def spgemm(A: CSR, B: CSR) -> CSR:
    n_rows, n_inner = A.shape
    # 1. raise ValueError unless n_inner == B.shape[0]
    # 2. for each row i of A and each stored (i, k, a): add a * (row k of B) into row i of C
    # 3. each row of C: columns sorted, each column once; build indptr, indices, data
    raise NotImplementedError("write spgemm")
