"""sparse-attention, Numba reference (the speed yardstick): fused, one pass over each row's keys with
an online softmax (Milakov & Gimelshein 2018; the inner loop of FlashAttention). For query i it keeps
a running maximum m, a running normaliser l and an unnormalised output acc[dv]; each allowed key j
gives a score s = q·k_j/√d, and

    if s > m:  acc *= exp(m - s); l *= exp(m - s); m = s      (rescale to the new maximum)
    e = exp(s - m);  l += e;  acc += e · v_j

then out[i] = acc / l. K[j] and V[j] are read once per allowed pair, and no score, probability or
nnz-long temporary is ever stored: the memory traffic of the bytes model plus the rows of K and V.

Float32 storage and arithmetic, like the inputs. The dot product is a reduction, so
fastmath={"reassoc", "contract"} lets LLVM vectorise it (a different summation order, within the
checker's bound); no "nnan"/"ninf", so -inf as the initial maximum stays meaningful.
"""
import math

import numba
import numpy as np

from harness.types import CSR


@numba.njit(cache=True, fastmath={"reassoc", "contract"})
def _attend(indptr, indices, Q, K, V, scale, out):
    dv = V.shape[1]
    d = Q.shape[1]
    acc = np.empty(dv, dtype=np.float32)  # one scratch row for the whole call
    for i in range(Q.shape[0]):
        q = Q[i]
        m = np.float32(-np.inf)
        l = np.float32(0.0)
        acc[:] = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            k = K[indices[p]]
            s = np.float32(0.0)
            for c in range(d):
                s += q[c] * k[c]
            s *= scale
            if s > m:  # a new maximum: bring the sums so far to its scale (exp(-inf) = 0 the first time)
                alpha = np.float32(math.exp(m - s))
                l *= alpha
                for c in range(dv):
                    acc[c] *= alpha
                m = s
            e = np.float32(math.exp(s - m))
            l += e
            v = V[indices[p]]
            for c in range(dv):
                acc[c] += e * v[c]
        if l > 0.0:
            inv = np.float32(1.0) / l
            for c in range(dv):
                out[i, c] = acc[c] * inv
        else:  # no allowed key: zeros by contract (and l = 0 would give 0/0 = NaN)
            for c in range(dv):
                out[i, c] = 0.0


def unsigned(a: np.ndarray) -> np.ndarray:
    """The same memory as an unsigned integer array (int32 -> uint32, int64 -> uint64)."""
    a = np.ascontiguousarray(a)
    return a.view(np.dtype(f"u{a.itemsize}")) if a.dtype.kind == "i" else a


def sparse_attention(Q: np.ndarray, K: np.ndarray, V: np.ndarray, pattern: CSR) -> np.ndarray:
    Q, K, V = (np.ascontiguousarray(M, dtype=np.float32) for M in (Q, K, V))
    if Q.ndim != 2 or K.ndim != 2 or V.ndim != 2:
        raise ValueError(f"Q, K and V must be 2-D, got shapes {Q.shape}, {K.shape}, {V.shape}")
    L, d = Q.shape
    n = K.shape[0]
    if d == 0 or K.shape[1] != d or V.shape[0] != n or tuple(pattern.shape) != (L, n):
        raise ValueError(f"need Q (L, d), K (n, d), V (n, dv) with d >= 1 and a pattern of shape (L, n); "
                         f"got Q {Q.shape}, K {K.shape}, V {V.shape}, pattern {tuple(pattern.shape)}")
    out = np.empty((L, V.shape[1]), dtype=np.float32)
    _attend(unsigned(pattern.indptr), unsigned(pattern.indices), Q, K, V, np.float32(1.0 / math.sqrt(d)), out)
    return out
