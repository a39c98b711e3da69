"""sell-spmv: return y = A·x using the SELL-C-sigma form S of the matrix.

Read the statement: `sparsebench show sell-spmv`. Grade: `sparsebench grade sell-spmv THIS_FILE`.
"""
import numpy as np

from harness.types import CSR, SELL


def sell_spmv(A: CSR, S: SELL, x: np.ndarray) -> np.ndarray:
    n_rows, n_cols = S.shape
    # 1. raise ValueError unless x has shape (n_cols,)
    # 2. for each chunk c (lanes r = 0 .. S.C - 1, sorted rows s = c*S.C + r):
    #        for j in 0 .. S.chunk_len[c] - 1: slot q = S.chunk_ptr[c] + j*S.C + r
    #            sum[r] += S.data[q] * x[S.col[q]]
    #    and write each lane's sum to its original row: y[S.perm[s]] (only for s < n_rows)
    # 3. return a new float64 array of length n_rows
    raise NotImplementedError("write sell_spmv")
