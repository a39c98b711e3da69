"""sell-spmv, Numba reference (the speed yardstick): y = A·x from the SELL-C-sigma form S.

One chunk at a time: C running sums, one per lane (a sorted row), and for each slot column j
of the chunk the C consecutive values data[chunk_ptr[c] + j·C + r] and their columns, read
front to back. The loop over the C lanes is the SIMD dimension (on a machine with C-wide
vectors it is one vector multiply-add with a gather of x); the padding slots (value 0, column 0)
are multiplied like any other, which is why the contract keeps x finite. Finally each lane's sum
goes to its original row, y[perm[s]].
"""
import numba
import numpy as np

from harness.types import CSR, SELL


@numba.njit(cache=True)
def _sell_spmv(chunk_ptr, chunk_len, col, data, perm, x, y, C):
    n_rows = perm.size
    acc = np.zeros(C)  # one running sum per lane, reused by every chunk
    for c in range(chunk_len.size):
        base = np.int64(chunk_ptr[c])
        for r in range(C):
            acc[r] = 0.0
        for j in range(chunk_len[c]):
            off = base + j * C
            for r in range(C):  # the C lanes: consecutive in memory
                acc[r] += data[off + r] * x[col[off + r]]
        for r in range(C):
            s = c * C + r
            if s < n_rows:  # the last chunk may have lanes past the last row
                y[perm[s]] = acc[r]


def sell_spmv(A: CSR, S: SELL, x: np.ndarray) -> np.ndarray:
    n_rows, n_cols = int(S.shape[0]), int(S.shape[1])
    x = np.ascontiguousarray(x, dtype=np.float64)
    if x.ndim != 1 or x.shape[0] != n_cols:
        raise ValueError(f"x has shape {x.shape}; the matrix is {n_rows}x{n_cols}, so x needs shape ({n_cols},)")
    y = np.zeros(n_rows)
    _sell_spmv(np.ascontiguousarray(S.chunk_ptr), np.ascontiguousarray(S.chunk_len), np.ascontiguousarray(S.col),
               np.ascontiguousarray(S.data, dtype=np.float64), np.ascontiguousarray(S.perm), x, y, int(S.C))
    return y
