"""moe-dispatch, Numba reference (the speed yardstick): a counting sort, O(T·k + E).

Pass 1 counts each expert's assignments (and checks the ids); an exclusive prefix sum turns
the counts into offsets; pass 2 walks the assignments in index order a = t·k + j and drops each
into the next free slot of its expert, which is what makes the sort stable, writing the inverse
map in the same step. Two sequential reads of the ids, one scattered write each of order and
inverse, and E-sized work for the prefix sum: no comparison sort, no (T·k, E) temporaries.
"""
from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np


class Dispatch(NamedTuple):
    order: np.ndarray
    counts: np.ndarray
    offsets: np.ndarray
    inverse: np.ndarray


@numba.njit(cache=True)
def _count(flat, E, counts):
    """counts[e] += 1 per assignment; returns the index of the first out-of-range id, or -1."""
    for a in range(flat.size):
        e = flat[a]
        if e < 0 or e >= E:
            return a
        counts[e] += 1
    return -1


@numba.njit(cache=True)
def _place(flat, counts, offsets, order, inverse):
    """offsets = exclusive prefix sum of counts; then each assignment, in index order, takes the
    next free position of its expert (cursor[e] starts at offsets[e])."""
    E = counts.size
    offsets[0] = 0
    for e in range(E):
        offsets[e + 1] = offsets[e] + counts[e]
    cursor = offsets[:-1].copy()
    for a in range(flat.size):
        e = flat[a]
        p = cursor[e]
        order[p] = a
        inverse[a] = p
        cursor[e] = p + 1


def moe_dispatch(expert: np.ndarray, num_experts: int) -> Dispatch:
    T, k = expert.shape
    flat = np.ascontiguousarray(expert).reshape(-1)
    counts = np.zeros(num_experts, dtype=np.int64)
    bad = _count(flat, num_experts, counts)
    if bad >= 0:
        raise ValueError(f"expert ids must lie in [0, {num_experts}); assignment {bad} has {flat[bad]}")
    offsets = np.empty(num_experts + 1, dtype=np.int64)
    order = np.empty(T * k, dtype=np.int64)
    inverse = np.empty(T * k, dtype=np.int64)
    _place(flat, counts, offsets, order, inverse)
    return Dispatch(order, counts, offsets, inverse.reshape(T, k))
