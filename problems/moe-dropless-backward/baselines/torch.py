# requires: torch
"""moe-dropless-backward in PyTorch (CPU) autograd: for comparison, never ranked. The forward is
moe-dropless's torch baseline (sort, index_select, two matmuls, index_add_); the expert ids are
integers, so the routing carries no gradient, and the float64 gates get theirs through the cast
to float32. Needs the optional `torch` extra."""
from __future__ import annotations

import numpy as np
import torch


def _experts_apply(x, expert, gate, w1, w2):
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
            y.index_add_(0, rows, out * g[start:start + n, None])
        start += n
    return y


def moe_dropless_backward(x, expert, gate, w1, w2, dy):
    params = [torch.from_numpy(a).requires_grad_() for a in (x, gate, w1, w2)]
    xt, gt, w1t, w2t = params
    y = _experts_apply(xt, torch.from_numpy(np.ascontiguousarray(expert)).long(), gt, w1t, w2t)
    if not y.requires_grad:  # no tokens: nothing depends on the parameters
        return tuple(np.zeros_like(a) for a in (x, gate, w1, w2))
    grads = torch.autograd.grad(y, params, torch.from_numpy(dy), allow_unused=True)
    return tuple(np.zeros_like(p) if g is None else g.numpy() for g, p in zip(grads, (x, gate, w1, w2)))
