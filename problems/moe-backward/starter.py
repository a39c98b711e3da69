"""moe-backward: gradients of a top-k Mixture-of-Experts FFN layer, routing held fixed.

Read the statement: `sparsebench show moe-backward`. Grade: `sparsebench grade moe-backward THIS_FILE`.
"""
from __future__ import annotations

import numpy as np


def moe_backward(x: np.ndarray, w_router: np.ndarray, w1: np.ndarray, w2: np.ndarray, k: int,
                 dy: np.ndarray, capacity_factor: float | None = None, aux_coef: float = 0.01,
                 z_coef: float = 0.001) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    # L = sum(y * dy) + aux_coef * aux_loss + z_coef * z_loss, with y from moe-forward and the
    # losses from moe-router. Return (dx, dw_router, dw1, dw2) = dL/d(x, w_router, w1, w2),
    # each in x's dtype, with the routing decisions (experts, kept mask, f_i) held fixed.
    # 1. recompute the routing and the router's probabilities
    # 2. per expert, on its kept tokens: backpropagate through relu(x @ w1[e]) @ w2[e], and
    #    find dL/dgate for each assignment (the expert's output dotted with dy)
    # 3. router: dL/dgate -> dL/dprobabilities (k > 1: through the renormalisation),
    #    + the aux-loss term, -> dL/dlogits through the softmax, + the z-loss term
    # 4. dw_router and the router's share of dx from dL/dlogits
    raise NotImplementedError("write moe_backward")
