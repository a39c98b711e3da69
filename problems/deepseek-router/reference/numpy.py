"""deepseek-router, vectorised NumPy reference (the oracle).

DeepSeek-V3's routing: sigmoid affinities s; a per-expert bias b that moves experts up or
down the ranking (q = s + b) but never enters the gates; group-limited selection (keep the
best top_groups of n_groups contiguous groups, scored by the sum of each group's two largest
q, then top-k inside them); gates = the chosen s, normalised to sum to 1. Then the bias
update of auxiliary-loss-free balancing and the complementary sequence-wise balance loss.
Stable argsorts of negated scores give the lower index every tie (experts and groups alike).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np


class DeepSeekRouting(NamedTuple):
    expert: np.ndarray  # (T, k) int: by descending s + b, ties -> lower index
    gate: np.ndarray  # (T, k) float64: chosen s normalised to sum 1
    load: np.ndarray  # (E,) int: tokens that chose each expert
    new_bias: np.ndarray  # (E,) float64: b + gamma * sign(mean load - load)
    balance_loss: float  # alpha * sum_i f_i P_i, per sequence, averaged over sequences


def sigmoid(z: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-z)) without overflow: exp of a non-positive number only."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def deepseek_route(logits: np.ndarray, bias: np.ndarray, k: int, n_groups: int, top_groups: int,
                   seq_len: int, alpha: float, gamma: float) -> DeepSeekRouting:
    z = np.asarray(logits, dtype=np.float64)
    b = np.asarray(bias, dtype=np.float64)
    T, E = z.shape
    s = sigmoid(z)
    q = s + b  # for choosing only
    if n_groups > 1:
        grouped = q.reshape(T, n_groups, E // n_groups)
        two = np.sort(grouped, axis=2)[:, :, -2:]
        group_score = two[:, :, 1] + two[:, :, 0]  # largest + second largest
        keep = np.argsort(-group_score, axis=1, kind="stable")[:, :top_groups]
        allowed = np.zeros((T, n_groups), dtype=bool)
        np.put_along_axis(allowed, keep, True, axis=1)
        q = np.where(allowed[:, :, None], grouped, -np.inf).reshape(T, E)  # excluded groups can never win
    expert = np.argsort(-q, axis=1, kind="stable")[:, :k].astype(np.int64)
    chosen = np.take_along_axis(s, expert, axis=1)
    gate = chosen / chosen.sum(axis=1, keepdims=True)
    load = np.bincount(expert.reshape(-1), minlength=E).astype(np.int64)
    new_bias = b + gamma * np.sign(T * k - E * load)  # sign(mean load - load), exact in integers
    if T == 0:
        return DeepSeekRouting(expert, gate, load, new_bias, 0.0)
    n_seq = T // seq_len
    top = np.argsort(-z, axis=1, kind="stable")[:, :k]  # plain top-k of the affinities: no bias, no groups
    seq = np.repeat(np.arange(n_seq), seq_len)[:, None]
    counts = np.bincount((top + E * seq).reshape(-1), minlength=n_seq * E).reshape(n_seq, E)
    f = counts * (E / (k * seq_len))
    P = (s / s.sum(axis=1, keepdims=True)).reshape(n_seq, seq_len, E).mean(axis=1)
    per_sequence = alpha * (f * P).sum(axis=1)
    return DeepSeekRouting(expert, gate, load, new_bias, float(per_sequence.mean()))
