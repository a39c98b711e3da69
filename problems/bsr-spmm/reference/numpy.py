"""bsr-spmm, vectorised NumPy reference (the oracle): every block times its slab of X in one
batched matmul, then a segmented sum of the products over each block row.

    slabs[p]    = X[J_p·b : J_p·b + b, :]           (b, k) for block p in block column J_p
    products[p] = data[p] @ slabs[p]                 (b, k)
    Y[I·b : I·b + b, :] = Σ over the blocks p of block row I of products[p]

np.add.reduceat has two traps, as in spmv's reference: an empty block row would get the next
block's product instead of 0, and a start equal to the number of blocks raises. Only the
non-empty block rows are summed.
"""
import numpy as np

from harness.types import BSR


def bsr_spmm(A: BSR, X: np.ndarray) -> np.ndarray:
    rows, cols = int(A.shape[0]), int(A.shape[1])
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] != cols:
        raise ValueError(f"X has shape {X.shape}; A is {rows}x{cols}, so X needs shape ({cols}, k)")
    X = X.astype(np.float64, copy=False)
    b = int(A.data.shape[1])
    k = X.shape[1]
    indptr = np.asarray(A.indptr, dtype=np.int64)
    Y = np.zeros((rows // b, b, k))
    if A.indices.size and k:
        slabs = X.reshape(cols // b, b, k)[np.asarray(A.indices, dtype=np.int64)]  # (blocks, b, k)
        with np.errstate(invalid="ignore", over="ignore"):  # IEEE: a stored 0 times inf is NaN
            products = np.matmul(A.data, slabs)
            nonempty = np.flatnonzero(indptr[1:] > indptr[:-1])
            Y[nonempty] = np.add.reduceat(products, indptr[nonempty], axis=0)
    return Y.reshape(rows, k)
