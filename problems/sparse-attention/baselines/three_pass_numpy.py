"""sparse-attention in three vectorised NumPy passes, float32 throughout: the peer the fused Numba
reference is measured against (shown, never ranked).

  1. SDDMM:   scores[p] = Q[row(p)] · K[col(p)] / √d             (gather + einsum, chunked)
  2. softmax: per row, subtract the row's max, exp, divide by the row's sum (segmented reductions)
  3. SpMM:    out[i] = Σ_p probs[p] · V[col(p)]                   (gather + segmented sums, chunked)

Each pass reads and writes whole nnz-long arrays (scores, exponentials, probabilities) and the
gathers copy d or dv floats per allowed pair: the memory traffic the fused form never has. Chunks of
about CHUNK entries (whole rows) keep the gathered copies bounded."""
import numpy as np

from harness.types import CSR

CHUNK = 1 << 15


def _row_chunks(indptr: np.ndarray) -> list[tuple[int, int]]:
    """Row ranges [r0, r1) of about CHUNK entries each (a longer row gets a chunk of its own)."""
    L = indptr.size - 1
    bounds = np.unique(np.r_[0, np.searchsorted(indptr, np.arange(CHUNK, indptr[-1], CHUNK), side="right") - 1, L])
    return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


def sparse_attention(Q: np.ndarray, K: np.ndarray, V: np.ndarray, pattern: CSR) -> np.ndarray:
    Q, K, V = (np.asarray(M, dtype=np.float32) for M in (Q, K, V))
    if Q.ndim != 2 or K.ndim != 2 or V.ndim != 2:
        raise ValueError(f"Q, K and V must be 2-D, got shapes {Q.shape}, {K.shape}, {V.shape}")
    L, d = Q.shape
    n, dv = K.shape[0], V.shape[1]
    if d == 0 or K.shape[1] != d or V.shape[0] != n or tuple(pattern.shape) != (L, n):
        raise ValueError(f"shapes Q {Q.shape}, K {K.shape}, V {V.shape}, pattern {tuple(pattern.shape)}")
    indptr = np.asarray(pattern.indptr, dtype=np.int64)
    cols = pattern.indices
    counts = np.diff(indptr)
    rows = np.repeat(np.arange(L), counts)
    nonempty = np.flatnonzero(counts)
    starts = indptr[nonempty]
    out = np.zeros((L, dv), dtype=np.float32)
    if not nonempty.size:
        return out
    # pass 1: SDDMM
    scores = np.empty(cols.size, dtype=np.float32)
    for a, b in _row_chunks(indptr):
        lo, hi = indptr[a], indptr[b]
        np.einsum("ij,ij->i", Q[rows[lo:hi]], K[cols[lo:hi]], out=scores[lo:hi])
    scores *= np.float32(1.0 / np.sqrt(d))
    # pass 2: row softmax (stable), as segmented reductions over nnz-long arrays
    row_max = np.maximum.reduceat(scores, starts)
    shifted = scores - np.repeat(row_max, counts[nonempty])
    probs = np.exp(shifted)
    probs /= np.repeat(np.add.reduceat(probs, starts), counts[nonempty])
    # pass 3: SpMM with the probabilities as the sparse matrix's values. Feature-major: V's columns
    # gathered as (dv, entries) rows, so each segmented sum is a 1-D reduceat over contiguous
    # memory (np.add.reduceat along axis 0 of an (entries, dv) array is many times slower)
    VT = np.ascontiguousarray(V.T)
    for a, b in _row_chunks(indptr):
        lo, hi = indptr[a], indptr[b]
        keep = nonempty[(nonempty >= a) & (nonempty < b)]
        if keep.size and dv:
            weighted = np.take(VT, cols[lo:hi], axis=1)
            weighted *= probs[lo:hi]
            local = indptr[keep] - lo
            for c in range(dv):
                out[keep, c] = np.add.reduceat(weighted[c], local)
    return out
