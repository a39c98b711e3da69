"""moe-dispatch, NumPy reference (the oracle): a stable argsort of the flattened expert ids.

Assignment a = t·k + j is (token t, slot j). A stable sort of expert.reshape(-1) lists the
assignments expert by expert, each expert's in ascending a (so in token order); bincount gives
the counts, their exclusive prefix sum the offsets, and scattering 0 .. T·k-1 through the
order gives its inverse. O(T·k log(T·k)) for the sort: fine as an oracle, not the fastest.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Dispatch(NamedTuple):
    order: np.ndarray  # (T*k,) int64: assignment indices grouped by expert, stable
    counts: np.ndarray  # (E,) int64: assignments per expert
    offsets: np.ndarray  # (E+1,) int64: expert e's rows are order[offsets[e]:offsets[e+1]]
    inverse: np.ndarray  # (T, k) int64: position of assignment (t, j) in order


def moe_dispatch(expert: np.ndarray, num_experts: int) -> Dispatch:
    T, k = expert.shape
    flat = expert.reshape(-1).astype(np.int64)
    if flat.size and (flat.min() < 0 or flat.max() >= num_experts):
        raise ValueError(f"expert ids must lie in [0, {num_experts}), got {flat.min()} .. {flat.max()}")
    order = np.argsort(flat, kind="stable")  # equal ids keep their order: ascending a = t*k + j
    counts = np.bincount(flat, minlength=num_experts).astype(np.int64)
    offsets = np.zeros(num_experts + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    inverse = np.empty(T * k, dtype=np.int64)
    inverse[order] = np.arange(T * k, dtype=np.int64)
    return Dispatch(order.astype(np.int64), counts, offsets, inverse.reshape(T, k))
