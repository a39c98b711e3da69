"""Sparse matrix containers shared by problems, references and submissions.

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
