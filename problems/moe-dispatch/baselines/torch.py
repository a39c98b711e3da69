# requires: torch
"""moe-dispatch in PyTorch (CPU): for comparison, never ranked. What a PyTorch MoE layer does
(Megatron-style permute, MegaBlocks' indices_and_bins without the radix kernel): a stable sort
of the flattened expert ids, bincount for the counts, cumsum for the offsets, and a scatter of
0 .. T·k-1 for the inverse. Needs the optional `torch` extra."""
from __future__ import annotations

import numpy as np
import torch


def moe_dispatch(expert: np.ndarray, num_experts: int):
    T, k = expert.shape
    flat = torch.from_numpy(np.ascontiguousarray(expert)).reshape(-1).long()
    if flat.numel() and (int(flat.min()) < 0 or int(flat.max()) >= num_experts):
        raise ValueError(f"expert ids must lie in [0, {num_experts})")
    order = torch.sort(flat, stable=True).indices
    counts = torch.bincount(flat, minlength=num_experts)
    offsets = torch.zeros(num_experts + 1, dtype=torch.long)
    offsets[1:] = torch.cumsum(counts, 0)
    inverse = torch.empty_like(order)
    inverse[order] = torch.arange(T * k)
    return order.numpy(), counts.numpy(), offsets.numpy(), inverse.reshape(T, k).numpy()
