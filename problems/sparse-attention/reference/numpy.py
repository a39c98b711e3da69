"""sparse-attention, NumPy reference (the oracle): the statement's definition, one row at a time, in
float64: the row's scores, its maximum subtracted, exponentials, their sum, the weighted sum of the
row's values. Rounded to float32 once, at the end."""
import numpy as np

from harness.types import CSR


def validate(Q, K, V, pattern: CSR) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    Q, K, V = (np.asarray(M) for M in (Q, K, V))
    if Q.ndim != 2 or K.ndim != 2 or V.ndim != 2:
        raise ValueError(f"Q, K and V must be 2-D, got shapes {Q.shape}, {K.shape}, {V.shape}")
    L, d = Q.shape
    n = K.shape[0]
    if d == 0 or K.shape[1] != d or V.shape[0] != n or tuple(pattern.shape) != (L, n):
        raise ValueError(f"need Q (L, d), K (n, d), V (n, dv) with d >= 1 and a pattern of shape (L, n); "
                         f"got Q {Q.shape}, K {K.shape}, V {V.shape}, pattern {tuple(pattern.shape)}")
    return Q, K, V


def sparse_attention(Q: np.ndarray, K: np.ndarray, V: np.ndarray, pattern: CSR) -> np.ndarray:
    Q, K, V = validate(Q, K, V, pattern)
    Q64, K64, V64 = Q.astype(np.float64), K.astype(np.float64), V.astype(np.float64)
    scale = 1.0 / np.sqrt(Q.shape[1])
    indptr = np.asarray(pattern.indptr, dtype=np.int64)
    out = np.zeros((Q.shape[0], V.shape[1]))
    for i in np.flatnonzero(indptr[1:] > indptr[:-1]):  # a row with no allowed key stays 0
        cols = pattern.indices[indptr[i]:indptr[i + 1]]
        s = (K64[cols] @ Q64[i]) * scale
        e = np.exp(s - s.max())  # the largest term is exp(0) = 1: no overflow, sum >= 1
        out[i] = (e @ V64[cols]) / e.sum()
    return out.astype(np.float32)
