# requires: torch
"""moe-dropless in PyTorch (CPU): for comparison, never ranked. The usual eager dropless layer
(as in Mixtral's reference MoE block and Megatron-Core's SequentialMLP): sort the assignments by
expert, then per expert index_select its tokens, two matmuls with a relu between, and
index_add_ the gated outputs into y. Needs the optional `torch` extra."""
from __future__ import annotations

import numpy as np
import torch


def experts_apply(x: torch.Tensor, expert: torch.Tensor, gate: torch.Tensor, w1: torch.Tensor,
                  w2: torch.Tensor) -> torch.Tensor:
    """y = sum over assignments of gate * relu(x @ w1[e]) @ w2[e] (differentiable in x, gate, w1, w2)."""
    T, k = expert.shape
    flat = expert.reshape(-1)
    order = torch.sort(flat, stable=True).indices
    counts = torch.bincount(flat, minlength=w1.shape[0]).tolist()
    tok = order // k
    g = gate.reshape(-1)[order].to(x.dtype)
    y = torch.zeros_like(x)
    start = 0
    for e, n in enumerate(counts):
        if n:
            rows = tok[start:start + n]
            out = torch.relu(x.index_select(0, rows) @ w1[e]) @ w2[e]
            y.index_add_(0, rows, out * g[start:start + n, None])  # autograd handles it in place
        start += n
    return y


def moe_dropless(x: np.ndarray, expert: np.ndarray, gate: np.ndarray, w1: np.ndarray, w2: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        args = (torch.from_numpy(x), torch.from_numpy(np.ascontiguousarray(expert)).long(), torch.from_numpy(gate),
                torch.from_numpy(w1), torch.from_numpy(w2))
        return experts_apply(*args).numpy()
