"""Named sparse-matrix structures for tests, grading cases and benchmarks.

Each generator returns a canonical CSR (rows sorted, unique columns, int32 indices unless a
size needs int64, float64 values). The structures are the ones sparse kernels are judged on,
because each stresses something different:

- uniform: every row about the same length, columns scattered: x is read at random.
- laplacian (2D/3D stencils): short regular rows, columns near the diagonal: x is read
  almost in order, so the matrix stream dominates (the bandwidth-bound case).
- power_law: a few rows hold most entries: row-parallel code is badly load-balanced.
- block_diagonal: dense blocks on the diagonal: high reuse, many products per output.

`STRUCTURES` maps each name to a `make(rng, rows) -> CSR` with default parameters, so the
specs and the benchmarks name a structure instead of repeating its recipe.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from harness.types import CSR, index_dtype


def assemble(rows: np.ndarray, cols: np.ndarray, data: np.ndarray, shape: tuple[int, int],
             idx_dtype: np.dtype | type | None = None) -> CSR:
    """Canonical CSR from triplets in any order (repeats summed). Sorting one int64 key per
    entry is several times faster than a lexsort of two arrays."""
    n_rows, n_cols = int(shape[0]), int(shape[1])
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    data = np.asarray(data, dtype=np.float64)
    if n_rows * max(n_cols, 1) < 2**62:
        order = np.argsort(rows * n_cols + cols, kind="stable")
    else:  # the key would overflow: fall back to two sort keys
        order = np.lexsort((cols, rows))
    rows, cols, data = rows[order], cols[order], data[order]
    if rows.size:
        first = np.r_[True, (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])]
        starts = np.flatnonzero(first)
        if starts.size < rows.size:
            data = np.add.reduceat(data, starts)
            rows, cols = rows[starts], cols[starts]
    dt = np.dtype(idx_dtype) if idx_dtype is not None else index_dtype(n_rows, n_cols, rows.size)
    indptr = np.zeros(n_rows + 1, dtype=dt)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=indptr[1:])
    return CSR(indptr, cols.astype(dt), data, (n_rows, n_cols))


def uniform(rng: np.random.Generator, rows: int, cols: int, per_row: int) -> CSR:
    """Each row draws `per_row` columns uniformly (repeats merged, so a row may hold a few
    fewer); values uniform in [-1, 1). Sorting each short row is O(nnz log per_row). Built
    for speed, since the grader builds a fresh one for every timed call: 32-bit draws and an
    in-place sort where the columns fit, uniform rather than normal values (normal draws were
    a third of the time), and repeats (a few dozen in 10⁷ draws over 10⁶ columns) found in one
    flat pass and cut out by moving the runs between them left, in place, not by a mask over
    every entry: 84 ms at 909,090 rows of 10, where copying the runs out took 93 ms and a mask
    135 ms, the same arrays bit for bit."""
    per_row = min(per_row, cols)
    if rows == 0 or cols == 0 or per_row == 0:
        return assemble(np.zeros(0), np.zeros(0), np.zeros(0), (rows, cols))
    c = rng.integers(0, cols, size=(rows, per_row), dtype=np.int32 if cols < 2**31 else np.int64)
    c.sort(axis=1)
    flat = c.reshape(-1)
    repeat = np.flatnonzero(flat[1:] == flat[:-1]) + 1  # equal to the entry before it...
    repeat = repeat[repeat % per_row != 0]  # ...in the same row
    counts = np.full(rows, per_row, dtype=np.int64)
    np.subtract.at(counts, repeat // per_row, 1)
    dt = index_dtype(rows, cols, flat.size - repeat.size)
    indptr = np.zeros(rows + 1, dtype=dt)
    np.cumsum(counts, out=indptr[1:])
    if repeat.size > 1024:  # many (short columns): one mask is cheaper than many runs
        indices = np.delete(flat, repeat)
    elif repeat.size:  # in place: each run between repeats moves left over them (no second array)
        end = int(repeat[0])
        for a, b in zip(repeat + 1, np.r_[repeat[1:], flat.size]):
            flat[end:end + b - a] = flat[a:b]
            end += b - a
        indices = flat[:end]
    else:
        indices = flat
    values = rng.uniform(-1.0, 1.0, indices.size)  # -1 + 2·u: the bits of u·2 - 1
    return CSR(indptr, indices.astype(dt, copy=False), values, (rows, cols))


def laplacian(grid: tuple[int, ...]) -> CSR:
    """The negative Laplacian of a d-dimensional grid with Dirichlet boundaries: 2·d on the
    diagonal, -1 for each grid neighbour (the 5-point stencil in 2D, the 7-point in 3D).
    Built directly: the stencil offsets, sorted, give each row's columns in order."""
    grid = tuple(int(g) for g in grid)
    n = math.prod(grid)
    d = len(grid)
    strides = [math.prod(grid[a + 1:]) for a in range(d)]  # row-major: the first axis is slowest
    coords = np.indices(grid).reshape(d, n) if n else np.zeros((d, 0), dtype=np.int64)
    # offsets in increasing order: -s0 < -s1 < ... < 0 < ... < s1 < s0
    offsets = [-s for s in strides] + [0] + [s for s in reversed(strides)]
    valid = [coords[a] > 0 for a in range(d)] + [np.ones(n, dtype=bool)] + \
            [coords[a] < grid[a] - 1 for a in reversed(range(d))]
    values = [-1.0] * d + [2.0 * d] + [-1.0] * d
    valid_m = np.stack(valid, axis=1)  # (n, 2d + 1)
    cols = np.arange(n, dtype=np.int64)[:, None] + np.asarray(offsets, dtype=np.int64)[None, :]
    counts = valid_m.sum(axis=1)
    dt = index_dtype(n, n, int(counts.sum()))
    indptr = np.zeros(n + 1, dtype=dt)
    np.cumsum(counts, out=indptr[1:])
    data = np.broadcast_to(np.asarray(values), valid_m.shape)[valid_m]
    return CSR(indptr, cols[valid_m].astype(dt), data.astype(np.float64), (n, n))


def laplacian_2d(side: int) -> CSR:
    return laplacian((side, side))


def laplacian_3d(side: int) -> CSR:
    return laplacian((side, side, side))


def power_law(rng: np.random.Generator, rows: int, cols: int, nnz: int, exponent: float = 1.0) -> CSR:
    """Row lengths fall off as rank**-exponent (Zipf): with exponent 1 and a million rows the
    top 1% of rows hold about two thirds of the entries. Heavy rows sit at random positions."""
    if rows == 0 or cols == 0 or nnz == 0:
        return assemble(np.zeros(0), np.zeros(0), np.zeros(0), (rows, cols))
    weights = 1.0 / np.arange(1, rows + 1, dtype=np.float64) ** exponent
    lengths = np.minimum(np.floor(nnz * weights / weights.sum()), cols).astype(np.int64)
    short = nnz - int(lengths.sum())  # the rounding remainder: one more entry for random rows
    if short > 0:
        lengths[rng.choice(rows, size=min(short, rows), replace=False)] += 1
    lengths = np.minimum(lengths, cols)[rng.permutation(rows)]
    r = np.repeat(np.arange(rows, dtype=np.int64), lengths)
    c = rng.integers(0, cols, size=r.size)
    return assemble(r, c, rng.standard_normal(r.size), (rows, cols))


def block_diagonal(rng: np.random.Generator, n_blocks: int, block: int, density: float = 0.5) -> CSR:
    """`n_blocks` square blocks of side `block` on the diagonal, each entry present with
    probability `density`: rows that share columns, so products pile up (SpGEMM's
    compression ratio is high)."""
    n = n_blocks * block
    mask = rng.random((n_blocks, block, block)) < density
    b, i, j = np.nonzero(mask)
    return assemble(b * block + i, b * block + j, rng.standard_normal(b.size), (n, n))


def _cube_side(rows: int, d: int) -> int:
    return max(1, round(rows ** (1.0 / d)))


# name -> make(rng, rows): a square matrix of about `rows` rows with the structure's defaults
STRUCTURES: dict[str, Callable[[np.random.Generator, int], CSR]] = {
    "uniform": lambda rng, rows: uniform(rng, rows, rows, per_row=10),
    "laplacian-2d": lambda rng, rows: laplacian_2d(_cube_side(rows, 2)),
    "laplacian-3d": lambda rng, rows: laplacian_3d(_cube_side(rows, 3)),
    "power-law": lambda rng, rows: power_law(rng, rows, rows, nnz=10 * rows),
    "block-diagonal": lambda rng, rows: block_diagonal(rng, max(1, rows // 32), min(32, rows), density=0.3),
}


def make(name: str, rng: np.random.Generator, rows: int) -> CSR:
    """The structure called `name` with about `rows` rows (see STRUCTURES)."""
    try:
        return STRUCTURES[name](rng, rows)
    except KeyError:
        raise ValueError(f"unknown structure {name!r}; known: {', '.join(STRUCTURES)}") from None


def with_index_dtype(A: CSR, dtype) -> CSR:
    """The same matrix with its index arrays cast (e.g. int64 inputs for a small shape)."""
    return CSR(A.indptr.astype(dtype), A.indices.astype(dtype), A.data.copy(), A.shape)
