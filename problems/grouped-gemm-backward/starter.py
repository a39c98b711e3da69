"""grouped-gemm-backward: gradients of y[rows of g] = x[rows of g] @ w[g] for every group g.

Read the statement: `sparsebench show grouped-gemm-backward`.
Grade: `sparsebench grade grouped-gemm-backward THIS_FILE`.
"""
from __future__ import annotations

import numpy as np


def grouped_gemm_backward(x: np.ndarray, group_sizes: np.ndarray, w: np.ndarray, dy: np.ndarray):
    N, D = x.shape
    E, _, H = w.shape
    # raise ValueError unless group_sizes holds E integers >= 0 that add up to N
    # for group g (rows lo:hi): dx[lo:hi] = dy[lo:hi] @ w[g].T and dw[g] = x[lo:hi].T @ dy[lo:hi]
    # an empty group's dw[g] is zeros; both results in x's dtype; return (dx, dw)
    raise NotImplementedError("write grouped_gemm_backward")
