"""moe-forward: the forward pass of a top-k Mixture-of-Experts FFN layer.

Read the statement: `sparsebench show moe-forward`. Grade: `sparsebench grade moe-forward THIS_FILE`.
"""
from __future__ import annotations

import numpy as np


def moe_forward(x: np.ndarray, w_router: np.ndarray, w1: np.ndarray, w2: np.ndarray, k: int,
                capacity_factor: float | None = None) -> np.ndarray:
    T, D = x.shape
    E, _, H = w1.shape
    # 1. route x @ w_router exactly as in moe-router: expert, gate, kept (T, k)
    # 2. group the kept (token, expert) assignments by expert
    # 3. per expert e: relu(x[its tokens] @ w1[e]) @ w2[e], one pair of GEMMs on all its tokens
    # 4. y[token] += gate * that output; y is (T, D) in x's dtype, zero for fully dropped tokens
    raise NotImplementedError("write moe_forward")
