# requires: torch
"""deepseek-moe-forward in PyTorch (CPU): for comparison, never ranked. The structure of DeepSeek-V3's
released MoE module: the shared experts as one MLP over all tokens, DeepSeek-V3's gate (with stable
sorts in place of torch.topk, whose order among equal values is unspecified), then a loop over the
routed experts with index_select, three matmuls and index_add_. Needs the optional `torch` extra."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def _top(x: torch.Tensor, k: int) -> torch.Tensor:
    return torch.sort(x, dim=-1, descending=True, stable=True).indices[..., :k]


def gate(logits: torch.Tensor, bias: torch.Tensor, k: int, n_groups: int, top_groups: int):
    T, E = logits.shape
    s = torch.sigmoid(logits.double())
    q = s + bias
    if n_groups > 1:
        grouped = q.reshape(T, n_groups, E // n_groups)
        two = torch.sort(grouped, dim=-1).values[..., -2:]
        keep = _top(two[..., 1] + two[..., 0], top_groups)
        allowed = torch.zeros(T, n_groups, dtype=torch.bool).scatter_(1, keep, True)
        q = grouped.masked_fill(~allowed.unsqueeze(-1), float("-inf")).reshape(T, E)
    expert = _top(q, k)
    chosen = s.gather(1, expert)
    return expert, chosen / chosen.sum(dim=-1, keepdim=True)


def _ffn(x, wg, wu, wd):
    return (F.silu(x @ wg) * (x @ wu)) @ wd


def deepseek_moe_forward(x, w_router, bias, shared, routed, k, n_groups, top_groups, route_scale):
    with torch.no_grad():
        xt = torch.from_numpy(x)
        T, D = xt.shape
        sg, su, sd = (torch.from_numpy(w) for w in shared)
        rg, ru, rd = (torch.from_numpy(w) for w in routed)
        Ns = sg.shape[0]
        y = torch.zeros_like(xt)
        if Ns and T:
            y += _ffn(xt, sg.permute(1, 0, 2).reshape(D, -1), su.permute(1, 0, 2).reshape(D, -1), sd.reshape(-1, D))
        expert, weights = gate(xt @ torch.from_numpy(w_router), torch.from_numpy(np.asarray(bias, np.float64)), k,
                               n_groups, top_groups)
        weights = (weights * route_scale).to(xt.dtype)
        counts = torch.bincount(expert.reshape(-1), minlength=rg.shape[0]).tolist()
        for e, n in enumerate(counts):
            if n:
                tok, slot = torch.where(expert == e)
                out = _ffn(xt.index_select(0, tok), rg[e], ru[e], rd[e])
                y.index_add_(0, tok, out * weights[tok, slot, None])
        return y.numpy()
