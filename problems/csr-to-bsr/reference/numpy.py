"""csr-to-bsr, vectorised NumPy reference (the oracle): one block key per entry, the distinct keys
in increasing order are the stored blocks, and every entry is scattered into its block.

key = (row // b) · n_bcol + (col // b) orders blocks by block row, then block column: exactly
the canonical order. np.unique gives the sorted keys and, per entry, the index of its block.
"""
import numpy as np

from harness.types import BSR, CSR, index_dtype


def csr_to_bsr(A: CSR, b: int) -> BSR:
    rows, cols = int(A.shape[0]), int(A.shape[1])
    b = int(b)
    if b < 1 or rows % b or cols % b:
        raise ValueError(f"block size {b} must be positive and divide the shape {rows}x{cols}")
    n_brow, n_bcol = rows // b, cols // b
    indptr = np.asarray(A.indptr, dtype=np.int64)
    row = np.repeat(np.arange(rows, dtype=np.int64), np.diff(indptr))
    col = np.asarray(A.indices, dtype=np.int64)
    keys, block_of_entry = np.unique((row // b) * n_bcol + col // b, return_inverse=True)
    data = np.zeros((keys.size, b, b))
    data[block_of_entry, row % b, col % b] = A.data  # canonical input: no two entries share a slot
    dt = index_dtype(n_brow, n_bcol, keys.size)
    bindptr = np.zeros(n_brow + 1, dtype=dt)
    np.cumsum(np.bincount(keys // n_bcol, minlength=n_brow) if keys.size else np.zeros(n_brow, np.int64),
              out=bindptr[1:])
    bindices = (keys % n_bcol).astype(dt) if n_bcol else np.zeros(0, dtype=dt)
    return BSR(bindptr, bindices, data, (rows, cols))
