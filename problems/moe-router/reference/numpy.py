"""moe-router, vectorised NumPy reference (the oracle).

Experts are ranked by logit, which ranks them by exact probability (softmax is strictly
increasing) without the rounding of computed probabilities: exp underflows to 0.0 for
every logit far below the maximum, and those zeros are not ties. A stable argsort of
-logits puts equal logits in index order, so the lower index wins a tie.
"""
from __future__ import annotations

import math

import numpy as np

from harness.types import Routing


def _kept(expert: np.ndarray, C: int | None, E: int) -> np.ndarray:
    """Slots in priority order: all 1st choices in token order, then all 2nd choices, ..."""
    T, k = expert.shape
    if C is None:
        return np.ones((T, k), dtype=bool)
    queue = expert.T.reshape(-1)  # priority order
    by_expert = np.argsort(queue, kind="stable")  # stable: priority order within each expert
    sorted_e = queue[by_expert]
    rank = np.empty(queue.size, dtype=np.int64)
    rank[by_expert] = np.arange(queue.size) - np.searchsorted(sorted_e, sorted_e, side="left")
    return (rank < C).reshape(k, T).T.copy()


def route(logits: np.ndarray, k: int, capacity_factor: float | None) -> Routing:
    z = np.asarray(logits, dtype=np.float64)
    T, E = z.shape
    m = z.max(axis=1, keepdims=True) if T else np.zeros((0, 1))
    ez = np.exp(z - m)  # max-subtracted: nothing overflows, the largest term is exactly 1
    s = ez.sum(axis=1, keepdims=True)
    probs = ez / s
    lse = m[:, 0] + np.log(s[:, 0])
    expert = np.argsort(-z, axis=1, kind="stable")[:, :k].astype(np.int32)
    top = np.take_along_axis(probs, expert, axis=1)
    gate = top if k == 1 else top / top.sum(axis=1, keepdims=True)
    C = None if capacity_factor is None else math.ceil(capacity_factor * T * k / E)
    kept = _kept(expert, C, E)
    if T == 0:
        return Routing(expert, gate, kept, 0.0, 0.0)
    f = np.bincount(expert[:, 0], minlength=E) / T  # 1st choices, before any dropping
    aux_loss = E * float(f @ probs.mean(axis=0))
    z_loss = float(np.mean(lse**2))
    return Routing(expert, gate, kept, aux_loss, z_loss)
