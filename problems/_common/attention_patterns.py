"""Named sparse-attention patterns as canonical CSR matrices (query rows × key columns).

A stored entry (i, j) means "query i may attend to key j"; the values are 1.0 and carry no
meaning (a pattern is structural). Every generator returns sorted, unique column indices per row
and int32 indices (int64 only when a size needs it), built directly from index arithmetic, never
from an L × L dense mask, so they scale to long sequences.

The patterns are the ones the long-context papers combine, each with its conventions stated:

- `sliding_window` (Longformer, Beltagy et al. 2020; Mistral's causal variant): a band around the
  diagonal. Non-causal: i attends j with |i - j| <= window // 2 (window + 1 keys inside the
  sequence when window is even). Causal: i - window < j <= i (the last `window` keys, itself included).
- `window_global` (Longformer): the band plus a few global tokens that attend to every key and
  that every query attends to (symmetric global attention).
- `block_sparse` (Sparse Transformer, Child et al. 2019; Triton/FlexAttention block masks): the
  sequence cut into blocks of `block` tokens and a boolean block layout; `block_local` makes the
  layout of a band of `width` blocks, and `block_band` builds that band without a dense layout.
- `bigbird` (Zaheer et al. 2020, the ITC variant): blocks again; each query block attends the
  `window_blocks` blocks centred on it, `global_blocks` leading blocks that attend and are attended
  by all, and `random_blocks` other blocks drawn at random per query block.
- `random_keys`: each query attends `per_row` keys drawn uniformly (with repeats merged), for
  rectangular (cross-attention) shapes too.
- `causal`, `dense`: the two dense references.

`PATTERNS` maps names to `make(rng, L)` with default parameters, as generators.STRUCTURES does.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from harness.types import CSR, index_dtype


def from_ranges(lo: np.ndarray, hi: np.ndarray, n_keys: int) -> CSR:
    """Row i holds the columns lo[i] .. hi[i] - 1 (empty when hi[i] <= lo[i])."""
    lo = np.asarray(lo, dtype=np.int64)
    counts = np.maximum(np.asarray(hi, dtype=np.int64) - lo, 0)
    L = counts.size
    nnz = int(counts.sum())
    dt = index_dtype(L, n_keys, nnz)
    indptr = np.zeros(L + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    # column of entry p in row i: lo[i] + (p - indptr[i])
    cols = np.arange(nnz, dtype=np.int64) - np.repeat(indptr[:-1] - lo, counts)
    return CSR(indptr.astype(dt), cols.astype(dt), np.ones(nnz), (L, int(n_keys)))


def from_mask_rows(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> CSR:
    """Canonical pattern from (row, col) pairs in any order, repeats merged."""
    L, n = int(shape[0]), int(shape[1])
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    key = np.unique(rows * max(n, 1) + cols)
    r, c = key // max(n, 1), key % max(n, 1)
    dt = index_dtype(L, n, key.size)
    indptr = np.zeros(L + 1, dtype=dt)
    np.cumsum(np.bincount(r, minlength=L), out=indptr[1:])
    return CSR(indptr, c.astype(dt), np.ones(key.size), (L, n))


def union(*patterns: CSR) -> CSR:
    """Entries allowed by any of the patterns (all of the same shape)."""
    shape = patterns[0].shape
    assert all(p.shape == shape for p in patterns), "patterns must have the same shape"
    rows = np.concatenate([np.repeat(np.arange(shape[0]), np.diff(p.indptr.astype(np.int64))) for p in patterns])
    cols = np.concatenate([p.indices.astype(np.int64) for p in patterns])
    return from_mask_rows(rows, cols, shape)


def sliding_window(L: int, window: int, causal: bool = False) -> CSR:
    """Non-causal: |i - j| <= window // 2. Causal: i - window < j <= i."""
    i = np.arange(L, dtype=np.int64)
    if causal:
        return from_ranges(np.maximum(i - window + 1, 0), i + 1, L)
    h = window // 2
    return from_ranges(np.maximum(i - h, 0), np.minimum(i + h + 1, L), L)


def window_global(L: int, window: int, global_tokens: tuple[int, ...] | np.ndarray = (0,)) -> CSR:
    """The non-causal window plus symmetric global tokens: a global token's row holds every key,
    and every row holds the global tokens' columns."""
    g = np.unique(np.asarray(global_tokens, dtype=np.int64))
    g = g[(g >= 0) & (g < L)]
    band = sliding_window(L, window)
    rows_g = np.repeat(g, L)
    cols_g = np.tile(np.arange(L, dtype=np.int64), g.size)
    every = np.repeat(np.arange(L, dtype=np.int64), g.size)
    to_g = np.tile(g, L)
    band_rows = np.repeat(np.arange(L), np.diff(band.indptr.astype(np.int64)))
    return from_mask_rows(np.concatenate([band_rows, rows_g, every]),
                          np.concatenate([band.indices.astype(np.int64), cols_g, to_g]), (L, L))


def block_local(n_blocks: int, width: int) -> np.ndarray:
    """Boolean block layout (n_blocks x n_blocks, for small n_blocks): block row a attends block
    columns b with |a - b| <= width // 2. `block_band` builds the same pattern without the layout."""
    a = np.arange(n_blocks)
    return np.abs(a[:, None] - a[None, :]) <= width // 2


def _expand_blocks(L: int, block: int, qa: np.ndarray, kb: np.ndarray) -> CSR:
    """Every (query in block qa[t]) x (key in block kb[t]) pair; the last block may be short."""
    qa, kb = np.asarray(qa, dtype=np.int64), np.asarray(kb, dtype=np.int64)
    q = qa[:, None] * block + np.arange(block)[None, :]  # (pairs, block)
    k = kb[:, None] * block + np.arange(block)[None, :]
    rows = np.repeat(q, block, axis=1).reshape(-1)
    cols = np.tile(k, (1, block)).reshape(-1)
    keep = (rows < L) & (cols < L)
    return from_mask_rows(rows[keep], cols[keep], (L, L))


def _n_blocks(L: int, block: int) -> int:
    return -(-L // block) if L else 0


def block_sparse(L: int, block: int, layout: np.ndarray) -> CSR:
    """Query block a attends every key of block b where layout[a, b] (a dense boolean layout of
    ceil(L / block) squared blocks); the last block may be short when block does not divide L."""
    layout = np.asarray(layout, dtype=bool)
    nb = _n_blocks(L, block)
    assert layout.shape == (nb, nb), f"layout must be {nb}x{nb} for L={L}, block={block}"
    qa, kb = np.nonzero(layout)
    return _expand_blocks(L, block, qa, kb)


def _band_pairs(nb: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    a = np.arange(nb, dtype=np.int64)
    h = width // 2
    qa = np.concatenate([a for o in range(-h, h + 1)])
    kb = np.concatenate([a + o for o in range(-h, h + 1)])
    keep = (kb >= 0) & (kb < nb)
    return qa[keep], kb[keep]


def block_band(L: int, block: int, width: int) -> CSR:
    """block_sparse with the band layout block_local(n_blocks, width), built from the band's pairs
    (memory O(entries), not O(n_blocks²))."""
    return _expand_blocks(L, block, *_band_pairs(_n_blocks(L, block), width))


def bigbird(rng: np.random.Generator, L: int, block: int = 64, window_blocks: int = 3, global_blocks: int = 2,
            random_blocks: int = 3) -> CSR:
    """BigBird's ITC block pattern: window, global and random blocks (see the module docstring). The
    random blocks of a query block are drawn among those neither in its window nor global."""
    nb = _n_blocks(L, block)
    g = min(global_blocks, nb)
    h = window_blocks // 2
    qa, kb = _band_pairs(nb, window_blocks)
    every = np.arange(nb, dtype=np.int64)
    parts_q = [qa, np.repeat(every[:g], nb), every.repeat(g)]
    parts_k = [kb, np.tile(every, g), np.tile(every[:g], nb)]
    for a in range(g, nb):
        lo, hi = max(a - h, 0), min(a + h, nb - 1)
        c1 = max(lo - g, 0)  # free blocks g .. lo-1, then s2 .. nb-1
        s2 = max(hi + 1, g)
        free = c1 + max(nb - s2, 0)
        if free and random_blocks:
            t = rng.choice(free, size=min(random_blocks, free), replace=False)
            parts_q.append(np.full(t.size, a, dtype=np.int64))
            parts_k.append(np.where(t < c1, g + t, s2 + (t - c1)))
    return _expand_blocks(L, block, np.concatenate(parts_q), np.concatenate(parts_k))


def random_keys(rng: np.random.Generator, L: int, n_keys: int, per_row: int) -> CSR:
    """Each query draws per_row keys uniformly (repeats merged, so some rows hold fewer)."""
    if L == 0 or n_keys == 0 or per_row == 0:
        return from_ranges(np.zeros(L), np.zeros(L), n_keys)
    rows = np.repeat(np.arange(L, dtype=np.int64), per_row)
    return from_mask_rows(rows, rng.integers(0, n_keys, size=rows.size), (L, n_keys))


def causal(L: int) -> CSR:
    i = np.arange(L, dtype=np.int64)
    return from_ranges(np.zeros(L), i + 1, L)


def dense(L: int, n_keys: int | None = None) -> CSR:
    n = L if n_keys is None else n_keys
    return from_ranges(np.zeros(L), np.full(L, n), n)


def density(pattern: CSR) -> float:
    """Stored entries over L·n: the fraction of the dense score matrix a pattern computes."""
    L, n = pattern.shape
    return pattern.indices.size / (L * n) if L * n else 0.0


# name -> make(rng, L): a square pattern of L queries with the pattern's defaults
PATTERNS: dict[str, Callable[[np.random.Generator, int], CSR]] = {
    "sliding-window": lambda rng, L: sliding_window(L, 128),
    "causal-window": lambda rng, L: sliding_window(L, 128, causal=True),
    "window-global": lambda rng, L: window_global(L, 128, global_tokens=(0, 1, L // 2)),
    "block-sparse": lambda rng, L: block_band(L, 32, 3),
    "bigbird": lambda rng, L: bigbird(rng, L, block=32),
    "random": lambda rng, L: random_keys(rng, L, L, 64),
}


def make(name: str, rng: np.random.Generator, L: int) -> CSR:
    """The pattern called `name` over L tokens (see PATTERNS)."""
    try:
        return PATTERNS[name](rng, L)
    except KeyError:
        raise ValueError(f"unknown attention pattern {name!r}; known: {', '.join(PATTERNS)}") from None
