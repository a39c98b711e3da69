"""sparse-attention: out[i] = Σ_j softmax_j(q_i·k_j/√d) · v_j over the keys j that row i of the
pattern allows; a row with no allowed key gives zeros.

Read the statement: `sparsebench show sparse-attention`. Grade: `sparsebench grade sparse-attention THIS_FILE`.
"""
import numpy as np

from harness.types import CSR


def sparse_attention(Q: np.ndarray, K: np.ndarray, V: np.ndarray, pattern: CSR) -> np.ndarray:
    L, d = Q.shape
    # 1. raise ValueError unless Q is (L, d), K is (n, d), V is (n, dv), pattern is (L, n), d >= 1
    # 2. for each query row i, with keys j = pattern.indices[indptr[i]:indptr[i+1]]:
    #        s_j = Q[i] · K[j] / sqrt(d);  subtract max_j s_j;  p_j = exp(s_j) / sum of exp
    #        out[i] = sum_j p_j * V[j]          (an empty row: out[i] = 0)
    # 3. return a new float32 array of shape (L, dv)
    raise NotImplementedError("write sparse_attention")
