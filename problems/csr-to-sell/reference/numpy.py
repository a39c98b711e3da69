"""csr-to-sell, vectorised NumPy reference (the oracle): sort, chunk, scatter.

1. One stable argsort of the key window·(L + 1) + (L − length), L the longest row: windows in
   order, longest rows first inside a window, and (stable) equal lengths in original order.
2. Chunk widths: the lane lengths reshaped (chunks, C), maximum per chunk; chunk_ptr their
   cumulative sum times C.
3. Entry j of the row at sorted position s goes to slot chunk_ptr[s // C] + j·C + s % C: one
   fancy assignment for all entries; every other slot keeps value 0.0 and column 0.
"""
import numpy as np

from harness.types import CSR, SELL, index_dtype


def csr_to_sell(A: CSR, C: int, sigma: int) -> SELL:
    C, sigma = int(C), int(sigma)
    if C < 1 or sigma < 1:
        raise ValueError(f"C = {C} and sigma = {sigma} must both be at least 1")
    n_rows, n_cols = int(A.shape[0]), int(A.shape[1])
    indptr = np.asarray(A.indptr, dtype=np.int64)
    length = np.diff(indptr)
    longest = int(length.max(initial=0))
    key = (np.arange(n_rows, dtype=np.int64) // sigma) * (longest + 1) + (longest - length)
    perm = np.argsort(key, kind="stable")
    n_chunks = -(-n_rows // C)
    lane = np.zeros(n_chunks * C, dtype=np.int64)
    lane[:n_rows] = length[perm]
    chunk_len = lane.reshape(n_chunks, C).max(axis=1) if n_chunks else np.zeros(0, dtype=np.int64)
    chunk_ptr = np.zeros(n_chunks + 1, dtype=np.int64)
    np.cumsum(C * chunk_len, out=chunk_ptr[1:])
    slots = int(chunk_ptr[-1])
    col = np.zeros(slots, dtype=np.int64)
    data = np.zeros(slots)
    s = np.repeat(np.arange(n_rows, dtype=np.int64), lane[:n_rows])  # sorted position of every entry
    first = np.cumsum(lane[:n_rows]) - lane[:n_rows]
    j = np.arange(s.size, dtype=np.int64) - first[s]  # its index within the row
    src = indptr[perm[s]] + j
    dst = chunk_ptr[s // C] + j * C + s % C
    col[dst] = A.indices[src]
    data[dst] = A.data[src]
    dt = index_dtype(n_rows, n_cols, slots)
    return SELL(chunk_ptr.astype(dt), chunk_len.astype(dt), col.astype(dt), data, perm.astype(dt),
                (n_rows, n_cols), C, sigma)
