# expected-verdict: WA
"""Honest mistake: dense masked attention that fills forbidden scores with -1e9 instead of -inf (a
common trick to "avoid NaN"). For a row with at least one allowed key it is right: exp(-1e9 - m)
is 0. For a row with no allowed key every score is -1e9, the softmax is uniform over *all* n keys,
and the row gets the mean of every value instead of zeros."""
import numpy as np

from harness.types import CSR


def sparse_attention(Q: np.ndarray, K: np.ndarray, V: np.ndarray, pattern: CSR) -> np.ndarray:
    L, d = Q.shape
    n = K.shape[0]
    if d == 0 or K.ndim != 2 or V.ndim != 2 or K.shape[1] != d or V.shape[0] != n or tuple(pattern.shape) != (L, n):
        raise ValueError("bad shapes")
    allowed = np.zeros((L, n), dtype=bool)
    allowed[np.repeat(np.arange(L), np.diff(pattern.indptr)), pattern.indices] = True
    scores = np.where(allowed, (Q @ K.T) / np.float32(np.sqrt(d)), np.float32(-1e9))
    if n:
        scores -= scores.max(axis=1, keepdims=True)
    e = np.exp(scores)
    return ((e @ V) / np.maximum(e.sum(axis=1, keepdims=True), np.float32(1e-30))).astype(np.float32)
