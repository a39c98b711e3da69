"""csr-to-sell, Numba reference (the speed yardstick): a counting sort per window, then one pass
over the rows in sorted order that writes each row's entries down its lane.

Sorting: within a window, a stable counting sort by length, longest first: count the rows of
each length, turn the counts into starting positions (longest lengths first), and drop each
row, in original order, at the next position for its length. O(window + the window's longest
row) per window, so O(nnz + rows) in all; no comparisons, and stable, which is the tie rule.
"""
import numba
import numpy as np

from harness.types import CSR, SELL, index_dtype


@numba.njit(cache=True)
def _order(length, sigma, perm):
    n = length.size
    longest = 0
    for i in range(n):
        longest = max(longest, length[i])
    count = np.zeros(longest + 1, dtype=np.int64)
    for w0 in range(0, n, sigma):
        w1 = min(w0 + sigma, n)
        m = 0  # the window's longest row: buckets 0 .. m, so all windows together cost O(nnz + rows)
        for i in range(w0, w1):
            m = max(m, length[i])
        count[:m + 1] = 0
        for i in range(w0, w1):
            count[m - length[i]] += 1  # bucket 0 holds the longest rows
        pos = w0
        for k in range(m + 1):  # starting position of each bucket
            c = count[k]
            count[k] = pos
            pos += c
        for i in range(w0, w1):  # original order within a bucket: stable
            k = m - length[i]
            perm[count[k]] = i
            count[k] += 1


@numba.njit(cache=True)
def _layout(indptr, indices, values, perm, C, chunk_len, chunk_ptr, col, data):
    n = perm.size
    for c in range(chunk_len.size):
        width = 0
        for s in range(c * C, min(c * C + C, n)):
            width = max(width, indptr[perm[s] + 1] - indptr[perm[s]])
        chunk_len[c] = width
        chunk_ptr[c + 1] = chunk_ptr[c] + C * width
    for s in range(n):
        i = perm[s]
        q = chunk_ptr[s // C] + s % C  # the lane's first slot
        for p in range(indptr[i], indptr[i + 1]):
            col[q] = indices[p]
            data[q] = values[p]
            q += C


def csr_to_sell(A: CSR, C: int, sigma: int) -> SELL:
    C, sigma = int(C), int(sigma)
    if C < 1 or sigma < 1:
        raise ValueError(f"C = {C} and sigma = {sigma} must both be at least 1")
    n_rows, n_cols = int(A.shape[0]), int(A.shape[1])
    indptr = A.indptr.astype(np.int64)
    perm = np.zeros(n_rows, dtype=np.int64)
    _order(np.diff(indptr), sigma, perm)
    n_chunks = -(-n_rows // C)
    chunk_len = np.zeros(n_chunks, dtype=np.int64)
    chunk_ptr = np.zeros(n_chunks + 1, dtype=np.int64)
    lane_len = np.zeros(n_chunks * C, dtype=np.int64)
    lane_len[:n_rows] = np.diff(indptr)[perm]
    slots = int(C * lane_len.reshape(n_chunks, C).max(axis=1).sum()) if n_chunks else 0
    col = np.zeros(slots, dtype=np.int64)
    data = np.zeros(slots)
    _layout(indptr, A.indices.astype(np.int64), np.ascontiguousarray(A.data, dtype=np.float64), perm, C,
            chunk_len, chunk_ptr, col, data)
    dt = index_dtype(n_rows, n_cols, slots)
    return SELL(chunk_ptr.astype(dt), chunk_len.astype(dt), col.astype(dt), data, perm.astype(dt),
                (n_rows, n_cols), C, sigma)
