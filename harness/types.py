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


class BSR(NamedTuple):
    """Block sparse row with square b x b blocks: block row I holds blocks p in indptr[I]:indptr[I+1],
    block p sits at block column indices[p] and data[p] (b, b) is it, row-major (scipy's layout)."""

    indptr: np.ndarray  # (rows/b + 1,) int
    indices: np.ndarray  # (blocks,) int: block column of each block
    data: np.ndarray  # (blocks, b, b) float64
    shape: tuple[int, int]  # (rows, cols), both multiples of b


class SELL(NamedTuple):
    """SELL-C-sigma (Kreutzer et al. 2014): rows sorted by length within windows of sigma rows,
    cut into chunks of C sorted rows, each chunk padded to its longest row and stored column by
    column: slot j of the chunk's lane r (sorted row c*C + r) is at chunk_ptr[c] + j*C + r."""

    chunk_ptr: np.ndarray  # (chunks + 1,) int: first slot of each chunk
    chunk_len: np.ndarray  # (chunks,) int: slots per lane (the chunk's longest row)
    col: np.ndarray  # (slots,) int: column of each slot; padding slots hold column 0
    data: np.ndarray  # (slots,) float64; padding slots hold 0.0
    perm: np.ndarray  # (rows,) int: perm[s] is the original row at sorted position s
    shape: tuple[int, int]
    C: int  # rows per chunk
    sigma: int  # rows per sorting window


class Sparse24(NamedTuple):
    """A 2:4 structured-sparse matrix (the nm-sparsity contract): each group of 4 consecutive
    weights of a row keeps 2, stored as values plus their 2-bit positions, 2 groups per byte."""

    values: np.ndarray  # (rows, cols/2) float32: the kept weights, in order of position
    meta: np.ndarray  # (rows, ceil(cols/8)) uint8: group g in bits 4*(g%2)..+3 of byte g//2
    shape: tuple[int, int]  # (rows, cols), cols a multiple of 4
