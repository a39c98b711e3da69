"""spmm, vectorised NumPy reference (the oracle): Y = A·X as a gather of X's rows, a scaled
copy, and a segmented sum over each row's products (nnz x k temporary)."""
import numpy as np

from harness.types import CSR


def spmm(A: CSR, X: np.ndarray) -> np.ndarray:
    n_rows, n_cols = int(A.shape[0]), int(A.shape[1])
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] != n_cols:
        raise ValueError(f"X has shape {X.shape}; A is {n_rows}x{n_cols}, so X needs shape ({n_cols}, k)")
    indptr = np.asarray(A.indptr, dtype=np.int64)
    Y = np.zeros((n_rows, X.shape[1]))
    nonempty = np.flatnonzero(indptr[1:] > indptr[:-1])  # reduceat mishandles empty segments
    with np.errstate(invalid="ignore", over="ignore"):  # IEEE: 0 * inf is NaN, as it should be
        products = A.data[:, None] * X[A.indices]
        if nonempty.size and X.shape[1]:
            Y[nonempty] = np.add.reduceat(products, indptr[nonempty], axis=0)
    return Y
