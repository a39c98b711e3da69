"""deepseek-moe-forward: a DeepSeekMoE layer's forward pass: shared experts on every token plus
fine-grained routed experts chosen by DeepSeek-V3's router.

Read the statement: `sparsebench show deepseek-moe-forward`. Grade: `sparsebench grade deepseek-moe-forward THIS_FILE`.
"""
from __future__ import annotations

import numpy as np


def deepseek_moe_forward(x: np.ndarray, w_router: np.ndarray, bias: np.ndarray, shared: tuple, routed: tuple,
                         k: int, n_groups: int, top_groups: int, route_scale: float) -> np.ndarray:
    T, D = x.shape
    shared_gate, shared_up, shared_down = shared  # (Ns, D, H), (Ns, D, H), (Ns, H, D)
    routed_gate, routed_up, routed_down = routed  # (E, D, H), (E, D, H), (E, H, D)
    # an expert is SwiGLU: (silu(x @ w_gate) * (x @ w_up)) @ w_down, silu(a) = a * sigmoid(a)
    # 1. y = the sum of the Ns shared experts on every token
    # 2. route (as in deepseek-router) on logits = x @ w_router: s = sigmoid (float64), q = s + bias,
    #    keep top_groups of n_groups groups by the sum of their two largest q, top-k by q inside them
    #    (ties -> lower index); gate = s[chosen] / sum, times route_scale
    # 3. y[t] += gate[t, j] * routed expert expert[t, j] applied to x[t], for each of the k choices
    # 4. return y in x's dtype, shape (T, D)
    raise NotImplementedError("write deepseek_moe_forward")
