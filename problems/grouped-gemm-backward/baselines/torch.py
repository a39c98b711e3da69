# requires: torch
"""grouped-gemm-backward in PyTorch (CPU) autograd: for comparison, never ranked. The forward is
grouped-gemm's per-group matmul loop on slices of x and of w; autograd differentiates it, so an
empty group's slice of w gets a zero gradient and dx is the concatenation of the groups'
dy @ w[g].T. Needs the optional `torch` extra."""
from __future__ import annotations

import numpy as np
import torch


def grouped_gemm_backward(x: np.ndarray, group_sizes: np.ndarray, w: np.ndarray, dy: np.ndarray):
    N, D = x.shape
    E, _, H = w.shape
    sizes = np.asarray(group_sizes)
    if sizes.shape != (E,) or (sizes < 0).any() or int(sizes.sum()) != N:
        raise ValueError(f"group_sizes must be E = {E} integers >= 0 that add up to N = {N}")
    xt = torch.from_numpy(x).requires_grad_()
    wt = torch.from_numpy(w).requires_grad_()
    parts = [xs @ wt[g] for g, xs in enumerate(torch.split(xt, sizes.tolist())) if xs.shape[0]]
    if not parts:
        return np.zeros_like(x), np.zeros_like(w)
    y = torch.cat(parts)
    dx, dw = torch.autograd.grad(y, (xt, wt), torch.from_numpy(dy))
    return dx.numpy(), dw.numpy()
