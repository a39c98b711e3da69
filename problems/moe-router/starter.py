"""moe-router: route each token to its top-k experts, with capacity and the two router losses.

Read the statement: `sparsebench show moe-router`. Grade: `sparsebench grade moe-router THIS_FILE`.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Routing(NamedTuple):  # return this, or a plain tuple in the same order
    expert: np.ndarray  # (T, k) int: chosen experts, by descending probability; ties -> lower index
    gate: np.ndarray  # (T, k) float64
    kept: np.ndarray  # (T, k) bool
    aux_loss: float
    z_loss: float


def route(logits: np.ndarray, k: int, capacity_factor: float | None) -> Routing:
    T, E = logits.shape
    # 1. probabilities: a softmax over the E experts in float64; subtract each row's max first
    # 2. expert: the k largest per token, descending; equal logits -> the lower index first
    # 3. gate: k == 1 -> the raw probability; k > 1 -> the top-k probabilities divided by their sum
    # 4. capacity C = ceil(capacity_factor * T * k / E); fill slots with every token's 1st choice
    #    in token order, then every 2nd choice, ...; an assignment that finds its expert full is dropped
    # 5. aux_loss = E * sum_i f_i * P_i (f_i: share of 1st choices, before dropping; P_i: mean probability)
    #    z_loss = mean over tokens of logsumexp(logits) ** 2; both 0.0 when T == 0
    raise NotImplementedError("write route")
