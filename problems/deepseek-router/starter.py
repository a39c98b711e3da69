"""deepseek-router: DeepSeek-V3's routing (sigmoid affinities, a bias for selection only,
group-limited top-k, normalised gates) plus the bias update and the sequence-wise balance loss.

Read the statement: `sparsebench show deepseek-router`. Grade: `sparsebench grade deepseek-router THIS_FILE`.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np


class DeepSeekRouting(NamedTuple):  # return this, or a plain tuple in the same order
    expert: np.ndarray  # (T, k) int: chosen experts by descending s + b; ties -> lower index
    gate: np.ndarray  # (T, k) float64: the chosen s (no bias) divided by their sum
    load: np.ndarray  # (E,) int: how many tokens chose each expert
    new_bias: np.ndarray  # (E,) float64: b + gamma * sign(T*k/E - load)
    balance_loss: float  # alpha * sum_i f_i * P_i per sequence, averaged over the sequences


def deepseek_route(logits: np.ndarray, bias: np.ndarray, k: int, n_groups: int, top_groups: int,
                   seq_len: int, alpha: float, gamma: float) -> DeepSeekRouting:
    T, E = logits.shape
    # 1. s = sigmoid(logits) in float64 (stably: never exp of a large positive number); q = s + bias
    # 2. groups are contiguous blocks of E // n_groups experts; a group's score is the sum of its two
    #    largest q; keep the top_groups best groups (ties -> lower group index); n_groups == 1: no limit
    # 3. expert: the k largest q among the kept groups' experts, descending (ties -> lower expert index)
    # 4. gate: s[expert] / s[expert].sum() per token: the bias never enters the gates
    # 5. load: tokens per expert; new_bias = bias + gamma * sign(T * k - E * load)
    # 6. balance_loss: split the T tokens into sequences of seq_len; per sequence
    #    f_i = E / (k * seq_len) * (tokens whose plain top-k of the logits contains i),
    #    P_i = mean over the sequence of s_i / sum_j s_j;  loss = alpha * sum_i f_i * P_i;
    #    return the mean over sequences (0.0 when T == 0)
    raise NotImplementedError("write deepseek_route")
