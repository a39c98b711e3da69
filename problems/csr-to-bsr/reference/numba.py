"""csr-to-bsr, Numba reference (the speed yardstick): two passes over each block row, like
scipy's csr_tobsr, with the block columns sorted.

Pass 1 counts the distinct block columns of every block row with a marker array (mark[J] = the
last block row that touched block column J), giving indptr. Pass 2, per block row: collect its
block columns, sort them (a block row holds few), give each its slot through slot_of[J], then
scatter every entry of the b rows into data[slot, r, c]. O(nnz + blocks·(b² + log blocks per row))
time, O(n_bcol) scratch.
"""
import numba
import numpy as np

from harness.types import BSR, CSR, index_dtype


@numba.njit(cache=True)
def _count(indptr, indices, b, n_brow, n_bcol, counts):
    mark = np.full(n_bcol, -1, dtype=np.int64)
    for I in range(n_brow):
        for i in range(I * b, I * b + b):
            for p in range(indptr[i], indptr[i + 1]):
                J = indices[p] // b
                if mark[J] != I:
                    mark[J] = I
                    counts[I] += 1


@numba.njit(cache=True)
def _fill(indptr, indices, values, b, n_brow, n_bcol, bindptr, bindices, data):
    slot_of = np.full(n_bcol, -1, dtype=np.int64)
    for I in range(n_brow):
        start, n = bindptr[I], 0
        for i in range(I * b, I * b + b):  # this block row's block columns, in order of first touch
            for p in range(indptr[i], indptr[i + 1]):
                J = indices[p] // b
                if slot_of[J] < 0:
                    slot_of[J] = 0
                    bindices[start + n] = J
                    n += 1
        bindices[start:start + n].sort()  # in place: a block row holds few blocks
        for q in range(start, start + n):
            slot_of[bindices[q]] = q
        for r in range(b):
            i = I * b + r
            for p in range(indptr[i], indptr[i + 1]):
                c = indices[p]
                data[slot_of[c // b], r, c % b] = values[p]
        for q in range(start, start + n):  # reset the markers this block row set
            slot_of[bindices[q]] = -1


def csr_to_bsr(A: CSR, b: int) -> BSR:
    rows, cols = int(A.shape[0]), int(A.shape[1])
    b = int(b)
    if b < 1 or rows % b or cols % b:
        raise ValueError(f"block size {b} must be positive and divide the shape {rows}x{cols}")
    n_brow, n_bcol = rows // b, cols // b
    indptr = A.indptr.astype(np.int64)
    indices = A.indices.astype(np.int64)
    counts = np.zeros(n_brow, dtype=np.int64)
    _count(indptr, indices, b, n_brow, n_bcol, counts)
    bindptr = np.zeros(n_brow + 1, dtype=np.int64)
    np.cumsum(counts, out=bindptr[1:])
    blocks = int(bindptr[-1])
    bindices = np.zeros(blocks, dtype=np.int64)
    data = np.zeros((blocks, b, b))
    _fill(indptr, indices, np.ascontiguousarray(A.data, dtype=np.float64), b, n_brow, n_bcol, bindptr, bindices,
          data)
    dt = index_dtype(n_brow, n_bcol, blocks)
    return BSR(bindptr.astype(dt), bindices.astype(dt), data, (rows, cols))
