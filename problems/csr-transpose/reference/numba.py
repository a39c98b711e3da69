"""csr-transpose, Numba reference: the counting sort scipy calls csr_tocsc.

Pass 1 counts entries per column, a prefix sum turns counts into the transpose's
indptr, pass 2 walks A row by row and drops each entry into its column's next slot.
Rows are visited in order, so every output row comes out sorted: O(nnz + rows + cols).

Pass 2 is where the time goes: each entry's two writes land anywhere in the output. Three
things make it faster than a plain transcription, each measured (editorial.md has the table):

- The write fronts are the output's own indptr, advanced in place and shifted back one slot
  at the end, as scipy does: an int32 indptr is half the cache footprint of int64 fronts.
- Past a core's L2 (PREFETCH_NNZ entries) every write is a cache miss the core cannot see
  coming, since the address comes from the fronts. So the loop prefetches the slot of the
  entry AHEAD places on. That front may still move before the entry's turn (the same column
  in between), so a prefetch is a hint, never a value.
- Past the last-level cache (BUCKET_NNZ entries) the misses go to DRAM: two random lines
  read and written back per entry. There the scatter is split in two, an MSD radix pass as in
  coo-to-csr's reference: first into buckets of 2**shift consecutive columns (a hundred or so
  write streams), then each bucket, whose output (BUCKET_ENTRIES entries or fewer on average) fits in L2,
  into its columns. Both passes are stable, so rows stay in order within each column. The
  buckets cost 16 bytes an entry of scratch.
"""
import numba
import numpy as np

from harness.prefetch import prefetch
from harness.types import CSR, index_dtype

AHEAD = 32  # entries between a prefetch and the write it is for
PREFETCH_NNZ = 1 << 18  # from here the output (12 or 16 bytes an entry) is past a core's L2
BUCKET_NNZ = 1 << 22  # from here (48 MB of output or more) it is past the last-level cache too
BUCKET_ENTRIES = 1 << 17  # at most this many entries a bucket on average (about 1 MB of output: a core's L2)


@numba.njit(cache=True)
def _count(indices, n_cols, t_indptr):
    """t_indptr[j] = where column j starts in the transpose."""
    t_indptr[:] = 0
    for p in range(indices.size):  # column j's count at j + 1
        t_indptr[indices[p] + 1] += 1
    for j in range(n_cols):
        t_indptr[j + 1] += t_indptr[j]


@numba.njit(cache=True)
def _scatter(indptr, indices, data, n_rows, t_indptr, t_indices, t_data, ahead):
    """Each entry straight to its column's next slot (t_indptr[j] meanwhile); ahead = 0: no prefetch."""
    nnz = indices.size
    for i in range(n_rows):
        for p in range(indptr[i], indptr[i + 1]):
            if ahead and p + ahead < nnz:
                slot = t_indptr[indices[p + ahead]]
                prefetch(t_indices, slot)
                prefetch(t_data, slot)
            j = indices[p]
            q = t_indptr[j]
            t_indices[q] = i
            t_data[q] = data[p]
            t_indptr[j] = q + 1


@numba.njit(cache=True)
def _scatter_bucketed(indptr, indices, data, n_rows, t_indptr, t_indices, t_data, shift, b_row, b_col, b_val):
    """The same result in two stable passes: by bucket of 2**shift columns into b_*, then each
    bucket into its columns. A bucket's entries sit exactly where its columns' output does."""
    n_cols = t_indptr.size - 1
    n_buckets = ((n_cols - 1) >> shift) + 1
    front = np.empty(n_buckets, dtype=np.int64)  # next free slot of each bucket
    for b in range(n_buckets):
        front[b] = t_indptr[b << shift]
    for i in range(n_rows):  # pass 1: by bucket, rows in order
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            q = front[j >> shift]
            b_row[q] = i
            b_col[q] = j
            b_val[q] = data[p]
            front[j >> shift] = q + 1
    for q in range(indices.size):  # pass 2: each bucket by column, inside its L2-sized range
        j = b_col[q]
        s = t_indptr[j]
        t_indices[s] = b_row[q]
        t_data[s] = b_val[q]
        t_indptr[j] = s + 1


@numba.njit(cache=True)
def _shift_back(t_indptr):
    """After the scatter each front sits at the next column's start: move them back one slot."""
    for j in range(t_indptr.size - 1, 0, -1):
        t_indptr[j] = t_indptr[j - 1]
    t_indptr[0] = 0


def _unsigned(a: np.ndarray) -> np.ndarray:
    return a.view(np.uint64 if a.itemsize == 8 else np.uint32) if a.dtype.kind == "i" else a


def csr_transpose(A: CSR) -> CSR:
    n_rows, n_cols = int(A.shape[0]), int(A.shape[1])
    nnz = A.indices.size
    dt = index_dtype(n_rows, n_cols, nnz)
    t_indptr = np.empty(n_cols + 1, dtype=dt)
    t_indices = np.empty(nnz, dtype=dt)
    t_data = np.empty(nnz, dtype=np.float64)
    # a canonical input has indices in [0, n_cols): unsigned views skip Numba's wraparound code
    indptr, indices = _unsigned(A.indptr), _unsigned(A.indices)
    _count(indices, n_cols, t_indptr)
    if nnz >= BUCKET_NNZ:
        shift = max(0, int(np.log2(max(BUCKET_ENTRIES * n_cols / nnz, 1.0))))
        _scatter_bucketed(indptr, indices, A.data, n_rows, t_indptr, t_indices, t_data, shift,
                          np.empty(nnz, dtype=dt), np.empty(nnz, dtype=indices.dtype), np.empty(nnz))
    else:
        _scatter(indptr, indices, A.data, n_rows, t_indptr, t_indices, t_data, AHEAD if nnz >= PREFETCH_NNZ else 0)
    _shift_back(t_indptr)
    return CSR(t_indptr, t_indices, t_data, (n_cols, n_rows))
