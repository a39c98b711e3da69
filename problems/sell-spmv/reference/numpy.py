"""sell-spmv, vectorised NumPy reference (the oracle): every slot's product data·x[col] at once,
then one sum per lane with np.bincount, then the lanes back to their original rows.

Slot q of chunk c belongs to lane r = (q − chunk_ptr[c]) mod C, the sorted row s = c·C + r,
which is the original row perm[s]. Padding slots add 0·x[0], an exact ±0 for a finite x.
"""
import numpy as np

from harness.types import CSR, SELL


def sell_spmv(A: CSR, S: SELL, x: np.ndarray) -> np.ndarray:
    n_rows, n_cols = int(S.shape[0]), int(S.shape[1])
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1 or x.shape[0] != n_cols:
        raise ValueError(f"x has shape {x.shape}; the matrix is {n_rows}x{n_cols}, so x needs shape ({n_cols},)")
    C = int(S.C)
    ptr = np.asarray(S.chunk_ptr, dtype=np.int64)
    n_chunks = ptr.size - 1
    y = np.zeros(n_rows)
    if ptr[-1] == 0:
        return y
    width = np.diff(ptr)  # C · chunk_len: slots of each chunk
    start = np.repeat(ptr[:-1], width)
    lane = (np.arange(ptr[-1]) - start) % C
    sorted_row = np.repeat(np.arange(n_chunks) * C, width) + lane
    with np.errstate(invalid="ignore", over="ignore"):  # NaN in data spreads
        sums = np.bincount(sorted_row, weights=S.data * x[S.col], minlength=n_chunks * C)
    y[np.asarray(S.perm, dtype=np.int64)] = sums[:n_rows]
    return y
