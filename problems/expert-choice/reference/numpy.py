"""expert-choice, NumPy reference (the oracle).

Token-to-expert probabilities are a softmax over the experts of each token (float64,
max-subtracted). Then the roles flip: every expert ranks all T tokens by its column of
probabilities and takes the best C. A stable argsort of -p down each column puts equal
probabilities in token order, so the lower token index wins a tie; the C winners are then
listed in ascending token order (the convention of the contract).
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np


class ExpertChoice(NamedTuple):
    tokens: np.ndarray  # (E, C) int: the tokens expert e takes, ascending
    gates: np.ndarray  # (E, C) float64: p[token, e] for each of them
    unassigned: np.ndarray  # (U,) int: tokens no expert took, ascending


def capacity(T: int, capacity_factor: float, E: int) -> int:
    """C = ceil(T * capacity_factor / E), evaluated left to right in float64, at most T."""
    return min(T, math.ceil(T * capacity_factor / E))


def expert_choice(logits: np.ndarray, capacity_factor: float) -> ExpertChoice:
    z = np.asarray(logits, dtype=np.float64)
    T, E = z.shape
    C = capacity(T, capacity_factor, E)
    if T == 0:
        return ExpertChoice(np.zeros((E, 0), np.int64), np.zeros((E, 0)), np.zeros(0, np.int64))
    p = np.exp(z - z.max(axis=1, keepdims=True))  # largest term of each row is exactly 1: no overflow
    p /= p.sum(axis=1, keepdims=True)
    best = np.argsort(-p, axis=0, kind="stable")[:C]  # (C, E): each column's top C, ties -> lower token
    tokens = np.sort(best.T, axis=1).astype(np.int64)  # ascending token order within each expert
    gates = np.take_along_axis(p.T, tokens, axis=1)
    taken = np.zeros(T, dtype=bool)
    taken[tokens.reshape(-1)] = True
    return ExpertChoice(tokens, gates, np.flatnonzero(~taken).astype(np.int64))
