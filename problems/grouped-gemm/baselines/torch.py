# requires: torch
"""grouped-gemm in PyTorch (CPU): for comparison, never ranked. The eager per-group loop most
PyTorch MoE code runs on CPU (Megatron-Core's SequentialMLP does the same on GPU): split the
rows by group size, one matmul per group into the output's slice. (`torch.nn.functional.grouped_mm`
is the fused API, documented for bfloat16 on CUDA.) Needs the optional `torch` extra."""
from __future__ import annotations

import numpy as np
import torch


def grouped_gemm(x: np.ndarray, group_sizes: np.ndarray, w: np.ndarray) -> np.ndarray:
    N, D = x.shape
    E, _, H = w.shape
    sizes = np.asarray(group_sizes)
    if sizes.shape != (E,) or (sizes < 0).any() or int(sizes.sum()) != N:
        raise ValueError(f"group_sizes must be E = {E} integers >= 0 that add up to N = {N}")
    xt, wt = torch.from_numpy(x), torch.from_numpy(w)
    y = torch.empty((N, H), dtype=xt.dtype)
    with torch.no_grad():
        for g, (xs, ys) in enumerate(zip(torch.split(xt, sizes.tolist()), torch.split(y, sizes.tolist()))):
            if xs.shape[0]:
                torch.matmul(xs, wt[g], out=ys)
    return y.numpy()
