"""grouped-gemm: one matrix product per group of rows, y[rows of g] = x[rows of g] @ w[g].

Read the statement: `sparsebench show grouped-gemm`. Grade: `sparsebench grade grouped-gemm THIS_FILE`.
"""
from __future__ import annotations

import numpy as np


def grouped_gemm(x: np.ndarray, group_sizes: np.ndarray, w: np.ndarray) -> np.ndarray:
    N, D = x.shape
    E, _, H = w.shape
    # raise ValueError unless group_sizes holds E integers >= 0 that add up to N
    # group g is rows offsets[g]:offsets[g+1] of x, with offsets the prefix sum of group_sizes (leading 0)
    # y (N, H) in x's dtype: y[rows of g] = x[rows of g] @ w[g]; an empty group contributes nothing
    raise NotImplementedError("write grouped_gemm")
