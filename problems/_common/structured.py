"""Structured sparse formats for the specs (bsr-spmm, csr-to-bsr, sell-spmv, csr-to-sell,
nm-sparsity, nm-spmm): generators and trusted builders of BSR, SELL-C-sigma and 2:4 inputs,
padding statistics, and the checks they share.

The builders here make the *inputs* of the product problems; they are written independently of
the problems' references (BSR through scipy, SELL and 2:4 as plain NumPy), and the tests hold all
of them to a pure-Python transcription of each format's rules.
"""
from __future__ import annotations

import numpy as np

from harness.types import BSR, CSR, SELL, Sparse24, index_dtype
from problems._common import generators as gen

BLOCK_SIZES = (2, 4, 8, 16, 32)


# -- BSR ---------------------------------------------------------------------------------
def distinct_sorted(rng: np.random.Generator, rows: int, n: int, per_row: int) -> np.ndarray:
    """(rows, per_row) strictly increasing values in [0, n) per row, without an O(rows·n) draw:
    sorted draws from [0, n − per_row] plus 0, 1, 2, ... are distinct and in range."""
    u = np.sort(rng.integers(0, n - per_row + 1, size=(rows, per_row)), axis=1)
    return u + np.arange(per_row)[None, :]


def block_sparse_bsr(rng: np.random.Generator, n_brow: int, n_bcol: int, b: int, per_row: int) -> BSR:
    """A BSR whose every block row holds `per_row` distinct random block columns (sorted), each
    block a dense b x b of standard normals: the shape block-sparse weights and MoE expert
    layouts (MegaBlocks) have."""
    per_row = min(per_row, n_bcol)
    if n_brow == 0 or per_row == 0:
        dt = index_dtype(n_brow, n_bcol, 0)
        return BSR(np.zeros(n_brow + 1, dtype=dt), np.zeros(0, dtype=dt), np.zeros((0, b, b)),
                   (n_brow * b, n_bcol * b))
    cols = distinct_sorted(rng, n_brow, n_bcol, per_row)
    nblocks = n_brow * per_row
    dt = index_dtype(n_brow, n_bcol, nblocks)
    indptr = (np.arange(n_brow + 1, dtype=np.int64) * per_row).astype(dt)
    return BSR(indptr, cols.reshape(-1).astype(dt), rng.standard_normal((nblocks, b, b)), (n_brow * b, n_bcol * b))


def block_sparse_csr(rng: np.random.Generator, n_brow: int, n_bcol: int, b: int, per_row: int,
                     fill: float) -> CSR:
    """A CSR whose entries lie in `per_row` random b x b blocks of every block row, each position
    of those blocks stored with probability `fill` (a block left empty is not stored): what a BSR
    of block size b stores with padding about 1/fill."""
    per_row = min(per_row, n_bcol)
    if n_brow == 0 or per_row == 0:
        return gen.assemble(np.zeros(0), np.zeros(0), np.zeros(0), (n_brow * b, n_bcol * b))
    bj = distinct_sorted(rng, n_brow, n_bcol, per_row).reshape(-1)
    bi = np.repeat(np.arange(n_brow), per_row)
    r, c = np.meshgrid(np.arange(b), np.arange(b), indexing="ij")  # the b x b positions of a block
    rows = (bi[:, None, None] * b + r[None]).reshape(-1)
    cols = (bj[:, None, None] * b + c[None]).reshape(-1)
    keep = rng.random(rows.size) < fill
    return gen.assemble(rows[keep], cols[keep], rng.standard_normal(int(keep.sum())), (n_brow * b, n_bcol * b))


def bsr_from_csr(A: CSR, b: int) -> BSR:
    """The canonical BSR of a canonical CSR (trusted: scipy's tobsr, then sorted block columns,
    int32 indices unless int64 is needed). A block is stored when it holds a stored entry."""
    import scipy.sparse as sp

    rows, cols = A.shape
    M = sp.csr_array((A.data, A.indices.astype(np.int64), A.indptr.astype(np.int64)), shape=A.shape)
    B = M.tobsr(blocksize=(b, b), copy=True)
    B.sort_indices()
    dt = index_dtype(rows // b, cols // b, B.indices.size)
    return BSR(B.indptr.astype(dt), B.indices.astype(dt), np.ascontiguousarray(B.data, dtype=np.float64).copy(),
               (rows, cols))


def bsr_dense(A: BSR) -> np.ndarray:
    """The dense matrix of a BSR (small inputs: tests and printing)."""
    b = A.data.shape[1] if A.data.ndim == 3 else 1
    D = np.zeros(A.shape)
    ip = A.indptr.astype(np.int64)
    for I in range(ip.size - 1):
        for p in range(ip[I], ip[I + 1]):
            J = int(A.indices[p])
            D[I * b:(I + 1) * b, J * b:(J + 1) * b] = A.data[p]
    return D


def bsr_padding(A: CSR, b: int) -> float:
    """Stored values of the BSR over nnz of the CSR: b^2 * blocks / nnz (1 = no padding)."""
    nnz = A.indices.size
    if nnz == 0:
        return 1.0
    rows = np.repeat(np.arange(A.shape[0], dtype=np.int64), np.diff(A.indptr.astype(np.int64)))
    keys = np.unique((rows // b) * (A.shape[1] // b + 1) + A.indices.astype(np.int64) // b)
    return b * b * keys.size / nnz


# -- SELL-C-sigma ------------------------------------------------------------------------
def sell_order(lengths: np.ndarray, sigma: int) -> np.ndarray:
    """The SELL-C-sigma row order: within each window of `sigma` consecutive rows, longest row
    first; equal lengths keep their original order (the tie rule, a convention)."""
    n = lengths.size
    window = np.arange(n, dtype=np.int64) // max(int(sigma), 1)
    return np.lexsort((np.arange(n), -lengths.astype(np.int64), window)).astype(np.int64)


def sell_from_csr(A: CSR, C: int, sigma: int) -> SELL:
    """SELL-C-sigma of a canonical CSR (trusted builder for the sell-spmv inputs; the rules are
    the csr-to-sell statement's)."""
    rows, cols = A.shape
    ip = A.indptr.astype(np.int64)
    lengths = np.diff(ip)
    perm = sell_order(lengths, sigma)
    n_chunks = -(-rows // C)
    lane_len = np.zeros(n_chunks * C, dtype=np.int64)
    lane_len[:rows] = lengths[perm]
    chunk_len = lane_len.reshape(n_chunks, C).max(axis=1) if n_chunks else np.zeros(0, dtype=np.int64)
    chunk_ptr = np.zeros(n_chunks + 1, dtype=np.int64)
    np.cumsum(C * chunk_len, out=chunk_ptr[1:])
    slots = int(chunk_ptr[-1])
    col = np.zeros(slots, dtype=np.int64)
    data = np.zeros(slots)
    # entry j of the row at sorted position s goes to chunk_ptr[s // C] + j*C + s % C
    s_of_entry = np.repeat(np.arange(rows, dtype=np.int64), lengths[perm])
    j_of_entry = np.arange(s_of_entry.size) - np.repeat(np.cumsum(lengths[perm]) - lengths[perm], lengths[perm])
    src = ip[perm][s_of_entry] + j_of_entry
    dst = chunk_ptr[s_of_entry // C] + j_of_entry * C + s_of_entry % C
    col[dst] = A.indices[src]
    data[dst] = A.data[src]
    dt = index_dtype(rows, cols, slots)
    return SELL(chunk_ptr.astype(dt), chunk_len.astype(dt), col.astype(dt), data, perm.astype(dt), (rows, cols),
                int(C), int(sigma))


def sell_slots(lengths: np.ndarray, C: int, sigma: int) -> int:
    """Slots a SELL-C-sigma of rows with these lengths stores (padding included)."""
    lengths = np.asarray(lengths, dtype=np.int64)
    n = lengths.size
    n_chunks = -(-n // C)
    lane = np.zeros(n_chunks * C, dtype=np.int64)
    lane[:n] = lengths[sell_order(lengths, sigma)]
    return int(C * lane.reshape(n_chunks, C).max(axis=1).sum()) if n_chunks else 0


def sell_padding(A: CSR, C: int, sigma: int) -> float:
    """Stored slots over nnz (1 = no padding; Kreutzer et al.'s chunk occupancy beta is its inverse)."""
    nnz = A.indices.size
    return sell_slots(np.diff(A.indptr.astype(np.int64)), C, sigma) / nnz if nnz else 1.0


# -- 2:4 ---------------------------------------------------------------------------------
def keep_24(W: np.ndarray) -> np.ndarray:
    """(rows, cols/4, 2) positions kept in each group of 4: the two largest |w|, a tie going to the
    lower position (the convention), listed in increasing position. Counting rule: position j is
    kept when fewer than two others beat it, where k beats j if |w_k| > |w_j|, or equal and k < j."""
    rows, cols = W.shape
    a = np.abs(W.reshape(rows, cols // 4, 4))
    j = np.arange(4)
    beats = (a[..., :, None] > a[..., None, :]) | ((a[..., :, None] == a[..., None, :]) & (j[:, None] < j[None, :]))
    kept = beats.sum(axis=-2) < 2  # how many k beat each j
    return np.nonzero(kept)[-1].reshape(rows, cols // 4, 2)


def compress_24(W: np.ndarray) -> Sparse24:
    """The Sparse24 of a float32 weight matrix (trusted builder for the nm-spmm inputs)."""
    W = np.asarray(W, dtype=np.float32)
    rows, cols = W.shape
    groups = cols // 4
    pos = keep_24(W) if rows and groups else np.zeros((rows, groups, 2), dtype=np.int64)
    base = 4 * np.arange(groups)[None, :, None]
    values = np.take_along_axis(W, (base + pos).reshape(rows, -1), axis=1) if rows and groups else \
        np.zeros((rows, 2 * groups), dtype=np.float32)
    nibble = (pos[..., 0] | (pos[..., 1] << 2)).astype(np.uint8)  # (rows, groups)
    meta = np.zeros((rows, -(-cols // 8)), dtype=np.uint8)
    meta[:, : (groups + 1) // 2] |= nibble[:, 0::2]
    meta[:, : groups // 2] |= (nibble[:, 1::2] << 4).astype(np.uint8)
    return Sparse24(np.ascontiguousarray(values, dtype=np.float32), meta, (rows, cols))


def positions_24(S: Sparse24) -> np.ndarray:
    """(rows, cols/4, 2) positions decoded from the packed meta bytes."""
    rows, cols = S.shape
    groups = cols // 4
    g = np.arange(groups)
    nib = (S.meta[:, g // 2] >> (4 * (g % 2))).astype(np.int64) & 0xF if groups else np.zeros((rows, 0), np.int64)
    return np.stack([nib & 3, (nib >> 2) & 3], axis=-1)


def dense_24(S: Sparse24) -> np.ndarray:
    """The dense float32 matrix a Sparse24 stands for."""
    rows, cols = S.shape
    W = np.zeros((rows, cols), dtype=np.float32)
    if rows and cols:
        pos = positions_24(S)
        idx = (4 * np.arange(cols // 4)[None, :, None] + pos).reshape(rows, -1)
        np.put_along_axis(W, idx, S.values, axis=1)
    return W
