"""moe-backward: gradients of a top-k Mixture-of-Experts FFN layer, routing held fixed.

Read the statement: `sparsebench show moe-backward`. Grade: `sparsebench grade moe-backward THIS_FILE`.
"""
from __future__ import annotations

import numpy as np


def moe_backward(x: np.ndarray, w_router: np.ndarray, w1: np.ndarray, w2: np.ndarray, k: int,
                 dy: np.ndarray, capacity_factor: float | None = None, aux_coef: float = 0.01,
                 z_coef: float = 0.001) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    # L = sum(y * dy) + aux_coef * aux_loss + z_coef * z_loss, with y, aux_loss, z_loss as in
    # moe-forward and moe-router. Return (dx, dw_router, dw1, dw2) = dL/d(x, w_router, w1, w2).
    # 1. recompute the routing (expert, gate, kept) and the probabilities
    # 2. per expert, on its kept tokens: h = x_e @ w1[e], a = relu(h), da = dy_e @ w2[e].T
    #    dgate = sum(a * da, axis=1); dw2[e] = a.T @ (gate * dy_e); dh = gate * da * (h > 0)
    #    dw1[e] = x_e.T @ dh; dx[tokens] += dh @ w1[e].T
    # 3. router: dgate -> d(probabilities) (mind the renormalisation when k > 1), + the aux-loss
    #    term (f is a count: no gradient), softmax backward, + the z-loss term -> dlogits
    # 4. dw_router = x.T @ dlogits; dx += dlogits @ w_router.T
    raise NotImplementedError("write moe_backward")
