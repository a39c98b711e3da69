# requires: torch
"""moe-forward in PyTorch (CPU): for comparison, never ranked. The usual eager-mode layer:
route, sort the kept assignments by expert, index_select + two matmuls per expert,
index_add_ the gated outputs. Needs the optional `torch` extra."""
from __future__ import annotations

import math

import numpy as np
import torch


def route(logits: torch.Tensor, k: int, capacity_factor: float | None):
    """(expert, gate, kept, probs) under the moe-router contract."""
    T, E = logits.shape
    z = logits.double()
    probs = torch.softmax(z, dim=-1)
    # a stable descending sort keeps equal logits in index order: the lower index wins a tie
    expert = torch.sort(z, dim=-1, descending=True, stable=True).indices[:, :k]
    gate = probs.gather(1, expert)
    if k > 1:
        gate = gate / gate.sum(dim=-1, keepdim=True)
    kept = torch.ones(T, k, dtype=torch.bool)
    if capacity_factor is not None:
        C = math.ceil(capacity_factor * T * k / E)
        queue = expert.t().reshape(-1)  # priority order: all 1st choices, then all 2nd, ...
        one_hot = torch.nn.functional.one_hot(queue, E)
        rank = ((one_hot.cumsum(0) - 1) * one_hot).sum(-1)  # place in its expert's queue
        kept = (rank < C).reshape(k, T).t()
    return expert, gate, kept, probs


def experts_apply(x: torch.Tensor, w1: torch.Tensor, w2: torch.Tensor, expert: torch.Tensor,
                  gate: torch.Tensor, kept: torch.Tensor) -> torch.Tensor:
    """y = sum over kept assignments of gate * relu(x @ w1[e]) @ w2[e]."""
    tok, slot = kept.nonzero(as_tuple=True)
    chosen = expert[tok, slot]
    order = torch.argsort(chosen, stable=True)
    tok, slot, chosen = tok[order], slot[order], chosen[order]
    counts = torch.bincount(chosen, minlength=w1.shape[0]).tolist()
    g = gate[tok, slot].to(x.dtype)
    y = torch.zeros_like(x)
    start = 0
    for e, n in enumerate(counts):
        if n:
            rows = tok[start:start + n]
            out = torch.relu(x.index_select(0, rows) @ w1[e]) @ w2[e]
            y.index_add_(0, rows, out * g[start:start + n, None])  # autograd handles it in place
        start += n
    return y


def moe_forward(x: np.ndarray, w_router: np.ndarray, w1: np.ndarray, w2: np.ndarray, k: int,
                capacity_factor: float | None = None) -> np.ndarray:
    with torch.no_grad():
        xt, w1t, w2t = torch.from_numpy(x), torch.from_numpy(w1), torch.from_numpy(w2)
        expert, gate, kept, _ = route(xt @ torch.from_numpy(w_router), k, capacity_factor)
        return experts_apply(xt, w1t, w2t, expert, gate, kept).numpy()
