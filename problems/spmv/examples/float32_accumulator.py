# expected-verdict: WA
"""Honest mistake: computes in float32 "to halve the memory traffic". Each product and
partial sum is rounded to 24 bits, errors of ~1e-7 of the row's magnitude: far outside
float64 rounding, so the first case with non-trivial values fails."""
import numpy as np

from harness.types import CSR


def spmv(A: CSR, x: np.ndarray) -> np.ndarray:
    n_rows, n_cols = A.shape
    if x.shape != (n_cols,):
        raise ValueError(f"x has shape {x.shape}, expected ({n_cols},)")
    rows = np.repeat(np.arange(n_rows), np.diff(A.indptr))
    products = A.data.astype(np.float32) * x.astype(np.float32)[A.indices]
    y = np.zeros(n_rows, dtype=np.float32)
    np.add.at(y, rows, products)
    return y.astype(np.float64)
