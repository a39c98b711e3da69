"""coo-to-csr, Numba reference (the speed yardstick): counting sort by row, then each row
sorted by column and its duplicates summed in place. O(nnz + rows) plus the per-row sorts.

Indices are validated once and then read through unsigned views: a negative index
becomes huge, so one `>= n` test catches both faults, and Numba emits no wraparound code.
"""
import numba
import numpy as np

from harness.types import COO, CSR, index_dtype

SHORT_ROW = 24  # rows up to this long are insertion-sorted; longer rows use argsort


@numba.njit(cache=True)
def _first_bad(row, col, n_rows, n_cols):
    for t in range(row.size):
        if row[t] >= n_rows or col[t] >= n_cols:
            return t
    return -1


@numba.njit(cache=True)
def _convert(row, col, data, n_rows, indptr, indices, values):
    nnz = row.size
    # pass 1: count entries per row; indptr[i + 1] = entries in row i
    counts = np.zeros(n_rows + 1, dtype=np.int64)
    for t in range(nnz):
        counts[row[t] + 1] += 1
    for i in range(n_rows):
        counts[i + 1] += counts[i]
    # pass 2: scatter each entry into its row's bucket (stable, keeps input order)
    nxt = counts[:-1].copy()
    for t in range(nnz):
        p = nxt[row[t]]
        indices[p] = col[t]
        values[p] = data[t]
        nxt[row[t]] += 1
    # pass 3: per row, sort by column and sum duplicates, compacting to the left
    w = 0
    indptr[0] = 0
    for i in range(n_rows):
        start, end = counts[i], counts[i + 1]
        if end - start <= SHORT_ROW:
            for p in range(start + 1, end):  # insertion sort of (indices, values)
                c, v = indices[p], values[p]
                q = p - 1
                while q >= start and indices[q] > c:
                    indices[q + 1] = indices[q]
                    values[q + 1] = values[q]
                    q -= 1
                indices[q + 1] = c
                values[q + 1] = v
        else:
            order = np.argsort(indices[start:end], kind="mergesort")
            seg_i = indices[start:end][order]
            seg_v = values[start:end][order]
            indices[start:end] = seg_i
            values[start:end] = seg_v
        row_start = w
        for p in range(start, end):
            if w > row_start and indices[w - 1] == indices[p]:
                values[w - 1] += values[p]
            else:
                indices[w] = indices[p]
                values[w] = values[p]
                w += 1
        indptr[i + 1] = w
    return w


def _unsigned(a: np.ndarray) -> np.ndarray:
    return a.view(np.uint64 if a.itemsize == 8 else np.uint32) if a.dtype.kind == "i" else a


def coo_to_csr(A: COO) -> CSR:
    row, col, data = np.asarray(A.row), np.asarray(A.col), np.asarray(A.data, dtype=np.float64)
    n_rows, n_cols = int(A.shape[0]), int(A.shape[1])
    if not (row.shape == col.shape == data.shape) or row.ndim != 1:
        raise ValueError(f"row, col and data must be 1-D and equally long, got {row.shape}, {col.shape}, {data.shape}")
    if row.dtype.kind not in "iu" or col.dtype.kind not in "iu":
        raise ValueError(f"indices must be integers, got {row.dtype} and {col.dtype}")
    row_u, col_u = _unsigned(np.ascontiguousarray(row)), _unsigned(np.ascontiguousarray(col))
    bad = _first_bad(row_u, col_u, n_rows, n_cols)
    if bad >= 0:
        raise ValueError(f"entry {bad} at ({row[bad]}, {col[bad]}) lies outside the shape {A.shape}")
    dt = index_dtype(n_rows, n_cols, row.size)
    indptr = np.empty(n_rows + 1, dtype=dt)
    indices = np.empty(row.size, dtype=dt)
    values = np.empty(row.size, dtype=np.float64)
    nnz = _convert(row_u, col_u, data, n_rows, indptr, indices, values)
    if nnz < row.size:  # duplicates were merged: trim (copies, so no slack memory is kept)
        indices, values = indices[:nnz].copy(), values[:nnz].copy()
    return CSR(indptr, indices, values, (n_rows, n_cols))
