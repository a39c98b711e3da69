"""sddmm: for every stored entry p = (i, j) of S, out[p] = A[i] · B[j] (times S.data[p] when scaled).

Read the statement: `sparsebench show sddmm`. Grade: `sparsebench grade sddmm THIS_FILE`.
"""
import numpy as np

from harness.types import CSR


def sddmm(S: CSR, A: np.ndarray, B: np.ndarray, scaled: bool) -> np.ndarray:
    m, n = S.shape
    # 1. raise ValueError unless A has shape (m, d) and B has shape (n, d) with the same d
    # 2. for each row i and each p in indptr[i] .. indptr[i+1] - 1, with j = indices[p]:
    #        out[p] = sum over k of A[i, k] * B[j, k]      (then times data[p] if scaled)
    # 3. return a new float64 array of length nnz, in the order of S's stored entries
    raise NotImplementedError("write sddmm")
