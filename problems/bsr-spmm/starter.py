"""bsr-spmm: return Y = A·X for a block sparse row matrix A (b x b blocks) and a dense X.

Read the statement: `sparsebench show bsr-spmm`. Grade: `sparsebench grade bsr-spmm THIS_FILE`.
"""
import numpy as np

from harness.types import BSR


def bsr_spmm(A: BSR, X: np.ndarray) -> np.ndarray:
    rows, cols = A.shape
    b = A.data.shape[1]  # blocks are data[p], shape (b, b)
    # 1. raise ValueError unless X is 2-D with `cols` rows
    # 2. for each block row I and each block p in indptr[I] .. indptr[I+1] - 1 (block column J = indices[p]):
    #        Y[I*b:(I+1)*b, :] += data[p] @ X[J*b:(J+1)*b, :]
    # 3. return a new float64 array of shape (rows, k)
    raise NotImplementedError("write bsr_spmm")
