# requires: torch
"""expert-choice in PyTorch (CPU): for comparison, never ranked. The usual eager-mode router:
softmax over experts, then each expert's top C tokens from a stable descending sort of its
column (torch.topk would be O(T) per expert but makes no promise about ties). Needs the
optional `torch` extra."""
from __future__ import annotations

import math

import numpy as np
import torch


def expert_choice(logits: np.ndarray, capacity_factor: float):
    T, E = logits.shape
    C = min(T, math.ceil(T * capacity_factor / E))
    with torch.no_grad():
        p = torch.softmax(torch.from_numpy(np.asarray(logits, dtype=np.float64)), dim=1)
        best = torch.sort(p.t(), dim=1, descending=True, stable=True).indices[:, :C]
        tokens = torch.sort(best, dim=1).values
        gates = p.t().gather(1, tokens)
        taken = torch.zeros(T, dtype=torch.bool)
        taken[tokens.reshape(-1)] = True
        unassigned = torch.nonzero(~taken).reshape(-1)
    return tokens.numpy().astype(np.int64), gates.numpy(), unassigned.numpy().astype(np.int64)
