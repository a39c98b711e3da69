"""coo-to-csr: return the canonical CSR of a COO matrix.

Read the statement: `sparsebench show coo-to-csr`. Grade: `sparsebench grade coo-to-csr THIS_FILE`.
"""
import numpy as np

from harness.types import COO, CSR, index_dtype  # index_dtype(rows, cols, nnz) -> int32 or int64


def coo_to_csr(A: COO) -> CSR:
    n_rows, n_cols = A.shape
    # 1. raise ValueError if an index is negative or outside the shape
    # 2. count entries per row -> indptr (prefix sum)
    # 3. place entries into their rows, sort each row by column, sum repeated columns
    raise NotImplementedError("write coo_to_csr")
