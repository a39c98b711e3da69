# expected-verdict: AC
# grade-plan: quick
"""Correct, and a different fused kernel: per row, the scores go into a small scratch vector first
(it stays in L1), then its maximum, then one pass of exp and accumulation. Still a single sweep over
the row's keys and values and no nnz-long temporary, but no rescaling branch (the online softmax
rescales whenever a new maximum appears). The scratch is allocated once, for the longest row."""
import math

import numba
import numpy as np

from harness.types import CSR


@numba.njit(cache=True, fastmath={"reassoc", "contract"})
def _attend(indptr, indices, Q, K, V, scale, out, scratch):
    d, dv = Q.shape[1], V.shape[1]
    for i in range(Q.shape[0]):
        lo, hi = indptr[i], indptr[i + 1]
        for c in range(dv):
            out[i, c] = 0.0
        if hi == lo:
            continue
        q = Q[i]
        m = np.float32(-np.inf)
        for p in range(lo, hi):
            k = K[indices[p]]
            s = np.float32(0.0)
            for c in range(d):
                s += q[c] * k[c]
            s *= scale
            scratch[p - lo] = s
            m = max(m, s)
        l = np.float32(0.0)
        for p in range(lo, hi):
            e = np.float32(math.exp(scratch[p - lo] - m))
            l += e
            v = V[indices[p]]
            for c in range(dv):
                out[i, c] += e * v[c]
        inv = np.float32(1.0) / l
        for c in range(dv):
            out[i, c] *= inv


def sparse_attention(Q: np.ndarray, K: np.ndarray, V: np.ndarray, pattern: CSR) -> np.ndarray:
    Q, K, V = (np.ascontiguousarray(M, dtype=np.float32) for M in (Q, K, V))
    if Q.ndim != 2 or K.ndim != 2 or V.ndim != 2:
        raise ValueError("Q, K and V must be 2-D")
    L, d = Q.shape
    n = K.shape[0]
    if d == 0 or K.shape[1] != d or V.shape[0] != n or tuple(pattern.shape) != (L, n):
        raise ValueError(f"bad shapes: Q {Q.shape}, K {K.shape}, V {V.shape}, pattern {tuple(pattern.shape)}")
    indptr = np.ascontiguousarray(pattern.indptr, dtype=np.int64)
    longest = int(np.diff(indptr).max(initial=0))
    out = np.empty((L, V.shape[1]), dtype=np.float32)
    _attend(indptr, np.ascontiguousarray(pattern.indices), Q, K, V, np.float32(1.0 / math.sqrt(d)), out,
            np.empty(longest, dtype=np.float32))
    return out
