"""Contract types shared by problems, references and submissions: COO, CSR, Routing.

Plain NamedTuples of NumPy arrays: cheap to build, easy to pass across a process
boundary, and a submission may return an ordinary tuple with the same field order.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np


class COO(NamedTuple):
    """Coordinate format: entry t is (row[t], col[t], data[t]); order and duplicates are free."""

    row: np.ndarray
    col: np.ndarray
    data: np.ndarray
    shape: tuple[int, int]


class CSR(NamedTuple):
    """Compressed sparse row: row i holds indices/data[indptr[i]:indptr[i+1]]."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    shape: tuple[int, int]


def index_dtype(*extents: int) -> np.dtype:
    """int32 unless one of the extents (a dimension or nnz) does not fit in it."""
    limit = np.iinfo(np.int32).max
    return np.dtype(np.int64 if any(int(e) > limit for e in extents) else np.int32)


class Routing(NamedTuple):
    """What an MoE router returns (the moe-router contract); a plain 5-tuple in this order is accepted."""

    expert: np.ndarray  # (T, k) int: chosen experts, by descending probability; ties -> lower index
    gate: np.ndarray  # (T, k) float64: weight of each chosen expert's output
    kept: np.ndarray  # (T, k) bool: False where the expert was full (capacity) and the assignment dropped
    aux_loss: float  # E * sum_i f_i * P_i (load balancing; 1.0 at perfect balance)
    z_loss: float  # mean over tokens of logsumexp(logits) ** 2
