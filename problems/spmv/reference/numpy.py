"""spmv, vectorised NumPy reference (the oracle): y = A·x as one gather, one multiply and
one segmented sum. Summation runs left to right within each row, like a plain loop."""
import numpy as np

from harness.types import CSR


def spmv(A: CSR, x: np.ndarray) -> np.ndarray:
    n_rows, n_cols = int(A.shape[0]), int(A.shape[1])
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1 or x.shape[0] != n_cols:
        raise ValueError(f"x has shape {x.shape}; A is {n_rows}x{n_cols}, so x needs shape ({n_cols},)")
    indptr = np.asarray(A.indptr, dtype=np.int64)
    y = np.zeros(n_rows)
    # np.add.reduceat returns the *element* at a start index for an empty segment, and
    # fails on a start equal to len(products): sum only the non-empty rows
    nonempty = np.flatnonzero(indptr[1:] > indptr[:-1])
    with np.errstate(invalid="ignore", over="ignore"):  # IEEE: 0 * inf is NaN, as it should be
        products = A.data * x[A.indices]
        if nonempty.size:
            y[nonempty] = np.add.reduceat(products, indptr[nonempty])
    return y
