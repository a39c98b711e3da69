"""expert-choice: every expert takes its top-C tokens by probability (expert-choice routing).

Read the statement: `sparsebench show expert-choice`. Grade: `sparsebench grade expert-choice THIS_FILE`.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np


class ExpertChoice(NamedTuple):  # return this, or a plain tuple in the same order
    tokens: np.ndarray  # (E, C) int: the C tokens expert e takes, in ascending token order
    gates: np.ndarray  # (E, C) float64: p[tokens[e, i], e]
    unassigned: np.ndarray  # (U,) int: the tokens no expert took, ascending


def expert_choice(logits: np.ndarray, capacity_factor: float) -> ExpertChoice:
    T, E = logits.shape
    # 1. p = softmax over the E experts of each token, in float64 (subtract each row's max first)
    # 2. C = min(T, math.ceil(T * capacity_factor / E)), evaluated in exactly this order
    # 3. expert e takes the C tokens with the largest p[:, e]; equal p -> the lower token index wins
    # 4. tokens[e] lists them in ascending token order; gates[e, i] = p[tokens[e, i], e]
    # 5. unassigned: the tokens that appear in no expert's list, ascending
    raise NotImplementedError("write expert_choice")
