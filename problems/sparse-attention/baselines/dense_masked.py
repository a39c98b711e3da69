"""sparse-attention as dense masked attention, float32: the whole L x n score matrix by one BLAS
GEMM, -inf where the pattern forbids a pair, a stable row softmax, and one more GEMM with V. What
a framework does with a boolean attention mask (PyTorch's scaled_dot_product_attention with
attn_mask, for one head). Work 2·L·n·(d + dv) whatever the density, memory O(L·n): it wins while
the pattern is dense enough for the GEMM rate to pay for the wasted pairs, and loses once the
density falls (the crossover is the benchmark's question). Shown, never ranked."""
import numpy as np

from harness.types import CSR


def sparse_attention(Q: np.ndarray, K: np.ndarray, V: np.ndarray, pattern: CSR) -> np.ndarray:
    Q, K, V = (np.asarray(M, dtype=np.float32) for M in (Q, K, V))
    if Q.ndim != 2 or K.ndim != 2 or V.ndim != 2:
        raise ValueError(f"Q, K and V must be 2-D, got shapes {Q.shape}, {K.shape}, {V.shape}")
    L, d = Q.shape
    n = K.shape[0]
    if d == 0 or K.shape[1] != d or V.shape[0] != n or tuple(pattern.shape) != (L, n):
        raise ValueError(f"shapes Q {Q.shape}, K {K.shape}, V {V.shape}, pattern {tuple(pattern.shape)}")
    allowed = np.zeros((L, n), dtype=bool)
    allowed[np.repeat(np.arange(L), np.diff(np.asarray(pattern.indptr, dtype=np.int64))), pattern.indices] = True
    scores = Q @ K.T
    scores *= np.float32(1.0 / np.sqrt(d))
    scores[~allowed] = -np.inf
    row_max = scores.max(axis=1, keepdims=True, initial=-np.inf)
    empty = ~np.isfinite(row_max)  # a row with no allowed key: all -inf
    row_max[empty] = 0.0
    scores -= row_max
    np.exp(scores, out=scores)  # exp(-inf) = 0 for the forbidden pairs
    total = scores.sum(axis=1, keepdims=True)
    total[empty] = 1.0
    out = scores @ V
    out /= total
    out[empty[:, 0]] = 0.0
    return out
