# requires: torch
"""deepseek-router in PyTorch (CPU): for comparison, never ranked. The released DeepSeek-V3 gate's
steps (sigmoid, biased copy for selection, groups by the sum of their top-2, -inf mask, top-k, gates
from the unbiased scores), with stable descending sorts in place of torch.topk, whose order among
equal values is unspecified. Needs the optional `torch` extra."""
from __future__ import annotations

import numpy as np
import torch


def _top(x: torch.Tensor, k: int) -> torch.Tensor:
    return torch.sort(x, dim=-1, descending=True, stable=True).indices[..., :k]


def deepseek_route(logits, bias, k, n_groups, top_groups, seq_len, alpha, gamma):
    with torch.no_grad():
        z = torch.from_numpy(np.asarray(logits, dtype=np.float64))
        b = torch.from_numpy(np.asarray(bias, dtype=np.float64))
        T, E = z.shape
        s = torch.sigmoid(z)
        q = s + b
        if n_groups > 1:
            grouped = q.reshape(T, n_groups, E // n_groups)
            two = torch.sort(grouped, dim=-1).values[..., -2:]
            keep = _top(two[..., 1] + two[..., 0], top_groups)
            allowed = torch.zeros(T, n_groups, dtype=torch.bool).scatter_(1, keep, True)
            q = grouped.masked_fill(~allowed.unsqueeze(-1), float("-inf")).reshape(T, E)
        expert = _top(q, k)
        chosen = s.gather(1, expert)
        gate = chosen / chosen.sum(dim=-1, keepdim=True)
        load = torch.bincount(expert.reshape(-1), minlength=E)
        new_bias = b + gamma * torch.sign(T * k - E * load).double()
        loss = 0.0
        if T:
            n_seq = T // seq_len
            top = _top(z, k).reshape(n_seq, seq_len * k)
            counts = torch.zeros(n_seq, E, dtype=torch.float64).scatter_add_(1, top, torch.ones_like(top).double())
            P = (s / s.sum(dim=-1, keepdim=True)).reshape(n_seq, seq_len, E).mean(dim=1)
            loss = float((alpha * (counts * (E / (k * seq_len)) * P).sum(dim=-1)).mean())
    return expert.numpy(), gate.numpy(), load.numpy(), new_bias.numpy(), loss
