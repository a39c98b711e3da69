"""nm-sparsity: prune W to 2:4 by magnitude, compress it (values + 2-bit positions), return Y = W_pruned · X.

Read the statement: `sparsebench show nm-sparsity`. Grade: `sparsebench grade nm-sparsity THIS_FILE`.
"""
import numpy as np

from harness.types import Sparse24


def nm_sparsity(W: np.ndarray, X: np.ndarray) -> tuple:
    rows, cols = W.shape
    # 1. raise ValueError unless cols % 4 == 0 and X has shape (cols, n)
    # 2. in each group W[i, 4g:4g+4] keep the 2 largest |w| (equal |w|: the lower position wins)
    # 3. values[i, 2g], values[i, 2g+1] = the kept weights in increasing position p0 < p1 (float32)
    # 4. meta[i, g // 2] |= (p0 | p1 << 2) << (4 * (g % 2))      (uint8, shape (rows, ceil(cols / 8)))
    # 5. Y = (W with the other two weights of every group set to 0) @ X, float32 of shape (rows, n)
    # return Sparse24(values, meta, (rows, cols)), Y
    raise NotImplementedError("write nm_sparsity")
