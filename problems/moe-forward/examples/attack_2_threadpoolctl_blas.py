# expected-verdict: AC
# grade-plan: quick
# expected-flag: cores
"""Class 2, BLAS threads raised inside the call: the NumPy reference's GEMMs, run under
threadpoolctl's threadpool_limits(2), which lifts OpenBLAS past the one thread the grade declared
(OPENBLAS_NUM_THREADS=1 only sets where it starts). The child's own checks never looked at CPU
during a call. The grader reads every thread's CPU from outside: the BLAS worker's time beside
the main thread's is flagged `cores`."""
from __future__ import annotations

import math

import numpy as np
from threadpoolctl import threadpool_limits


def _route(logits: np.ndarray, k: int, capacity_factor: float | None):
    """(expert, gate, kept) as in moe-router: rank by logit (ties -> lower index), float64
    probabilities, top-1 gate raw, top-k gates renormalised, slots filled choice by choice."""
    z = logits.astype(np.float64)
    T, E = z.shape
    probs = np.exp(z - (z.max(axis=1, keepdims=True) if T else 0.0))
    probs /= probs.sum(axis=1, keepdims=True)
    expert = np.argsort(-z, axis=1, kind="stable")[:, :k]
    gate = np.take_along_axis(probs, expert, axis=1)
    if k > 1:
        gate /= gate.sum(axis=1, keepdims=True)
    kept = np.ones((T, k), dtype=bool)
    if capacity_factor is not None:
        C = math.ceil(capacity_factor * T * k / E)
        queue = expert.T.reshape(-1)  # priority order: all 1st choices, then all 2nd, ...
        by_expert = np.argsort(queue, kind="stable")
        sorted_e = queue[by_expert]
        rank = np.empty(queue.size, dtype=np.int64)
        rank[by_expert] = np.arange(queue.size) - np.searchsorted(sorted_e, sorted_e, side="left")
        kept = (rank < C).reshape(k, T).T
    return expert, gate, kept


def _moe_forward(x: np.ndarray, w_router: np.ndarray, w1: np.ndarray, w2: np.ndarray, k: int,
                capacity_factor: float | None = None) -> np.ndarray:
    T, D = x.shape
    E = w1.shape[0]
    expert, gate, kept = _route(x @ w_router, k, capacity_factor)
    tok, slot = np.nonzero(kept)
    chosen = expert[tok, slot]
    order = np.argsort(chosen, kind="stable")  # group the assignments by expert
    tok, slot = tok[order], slot[order]
    g = gate[tok, slot].astype(x.dtype)
    bounds = np.searchsorted(chosen[order], np.arange(E + 1))
    y = np.zeros((T, D), dtype=x.dtype)
    for e in range(E):
        lo, hi = bounds[e], bounds[e + 1]
        if lo == hi:
            continue
        rows = tok[lo:hi]  # distinct tokens: one token never picks an expert twice
        h = x[rows] @ w1[e]
        np.maximum(h, 0, out=h)
        out = h @ w2[e]
        out *= g[lo:hi, None]
        y[rows] += out
    return y


def moe_forward(x: np.ndarray, w_router: np.ndarray, w1: np.ndarray, w2: np.ndarray, k: int,
                capacity_factor: float | None = None) -> np.ndarray:
    with threadpool_limits(limits=2, user_api="blas"):
        return _moe_forward(x, w_router, w1, w2, k, capacity_factor)
