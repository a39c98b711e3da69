"""sddmm, Numba reference (the speed yardstick): one pass over S's rows; for row i, A[i] stays in
cache while each stored entry (i, j) takes its dot product with B[j]. S, A and B are read once in
order except the gathered rows of B: the traffic the bytes model counts.

The dot product is the only reduction, and `fastmath={"reassoc", "contract"}` lets LLVM split it
into SIMD lanes and fused multiply-adds: a different order of summation, within the checker's
rounding bound. It does not assume away NaN and inf (no "nnan"/"ninf"), so IEEE results survive.
Index arrays are read through unsigned views (no negative-index wraparound code).
"""
import numba
import numpy as np

from harness.types import CSR


@numba.njit(cache=True, fastmath={"reassoc", "contract"})
def _sddmm(indptr, indices, data, A, B, scaled, out):
    d = A.shape[1]
    for i in range(indptr.size - 1):
        a = A[i]
        for p in range(indptr[i], indptr[i + 1]):
            b = B[indices[p]]
            s = 0.0
            for k in range(d):
                s += a[k] * b[k]
            out[p] = s * data[p] if scaled else s


def unsigned(a: np.ndarray) -> np.ndarray:
    """The same memory as an unsigned integer array (int32 -> uint32, int64 -> uint64)."""
    a = np.ascontiguousarray(a)
    return a.view(np.dtype(f"u{a.itemsize}")) if a.dtype.kind == "i" else a


def sddmm(S: CSR, A: np.ndarray, B: np.ndarray, scaled: bool) -> np.ndarray:
    m, n = int(S.shape[0]), int(S.shape[1])
    A, B = np.ascontiguousarray(A, dtype=np.float64), np.ascontiguousarray(B, dtype=np.float64)
    if A.ndim != 2 or B.ndim != 2 or A.shape[0] != m or B.shape[0] != n or A.shape[1] != B.shape[1]:
        raise ValueError(f"A has shape {A.shape} and B {B.shape}; S is {m}x{n}, so they need shapes "
                         f"({m}, d) and ({n}, d) with the same d")
    out = np.empty(S.indices.size)
    _sddmm(unsigned(S.indptr), unsigned(S.indices), np.ascontiguousarray(S.data, dtype=np.float64), A, B,
           bool(scaled), out)
    return out
