# expected-verdict: AC
# grade-plan: quick
"""Not the exercise, but allowed: ignores S and runs the CSR row loop on A. It gets AC, and its
speedup against the SELL reference is the CSR-versus-SELL comparison on the grade's matrices (the
same figure `baselines/csr.py` gives): on a CPU without wide SIMD gathers, CSR usually wins."""
import numba
import numpy as np

from harness.types import CSR, SELL


@numba.njit(cache=True)
def _rows(indptr, indices, data, x, y):
    for i in range(y.size):
        s = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            s += data[p] * x[indices[p]]
        y[i] = s


def sell_spmv(A: CSR, S: SELL, x: np.ndarray) -> np.ndarray:
    if x.ndim != 1 or x.shape[0] != A.shape[1]:
        raise ValueError(f"x has shape {x.shape}, expected ({A.shape[1]},)")
    y = np.empty(A.shape[0])
    _rows(A.indptr, A.indices, A.data, np.ascontiguousarray(x, dtype=np.float64), y)
    return y
