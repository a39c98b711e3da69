# requires: torch
"""moe-backward in PyTorch (CPU) autograd: for comparison, never ranked. The forward is the
torch forward baseline; the routing decisions (integer experts, boolean kept) carry no
gradient by construction, and f counts 1st choices without gradient, as the contract says.
Needs the optional `torch` extra."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import torch


def _forward_module():
    """moe-forward's torch baseline (loaded by path: baselines are not a package)."""
    path = Path(__file__).parents[2] / "moe-forward" / "baselines" / "torch.py"
    spec = importlib.util.spec_from_file_location("moe_forward_torch", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_fwd = _forward_module()


def moe_backward(x: np.ndarray, w_router: np.ndarray, w1: np.ndarray, w2: np.ndarray, k: int,
                 dy: np.ndarray, capacity_factor: float | None = None, aux_coef: float = 0.01,
                 z_coef: float = 0.001) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    params = [torch.from_numpy(a).requires_grad_() for a in (x, w_router, w1, w2)]
    xt, wr, w1t, w2t = params
    logits = xt @ wr
    expert, gate, kept, probs = _fwd.route(logits, k, capacity_factor)
    y = _fwd.experts_apply(xt, w1t, w2t, expert, gate, kept)
    loss = (y * torch.from_numpy(dy)).sum()
    T, E = probs.shape
    if T:
        f = torch.bincount(expert[:, 0], minlength=E).double() / T
        aux = E * (f * probs.mean(dim=0)).sum()
        z = (torch.logsumexp(logits.double(), dim=-1) ** 2).mean()
        loss = loss + aux_coef * aux + z_coef * z
    if not loss.requires_grad:  # no tokens: nothing depends on the parameters
        return tuple(np.zeros_like(a) for a in (x, w_router, w1, w2))
    grads = torch.autograd.grad(loss, params, allow_unused=True)
    return tuple(np.zeros_like(p) if g is None else g.numpy() for g, p in zip(grads, (x, w_router, w1, w2)))
