"""moe-dropless-backward, Numba reference (the speed yardstick): one block of an expert's rows
at a time, the five GEMMs through NumPy's matmul, everything between them compiled.

Per expert, BLOCK rows at a time (the last block up to BLOCK // 2 more: no short tail block),
through block buffers allocated once a call (no (T·k, ·) grouped copy is ever built, only the
routing: each grouped row's token and slot, from moe-dispatch's counting sort):

    gather x and dy rows              (compiled: one pass, both arrays)
    h = xb @ w1[e], da = dyb @ w2[e].T
    dgate = Σ relu(h)·da; da <- g·da·[h > 0]; h <- g·relu(h)   (compiled, in place, vectorised)
    dw2[e] (+)= h.T @ dyb, dw1[e] (+)= xb.T @ da                (+= from an expert's second block)
    dxb = da @ w1[e].T, then dx[token] += dxb rows              (compiled: an explicit loop, so a
                                                                  token's k rows add up)

Why this shape, measured with `python benchmarks/grouped_gemm_vs_dense.py --problem
moe-dropless-backward --rounds 21` (one thread, Intel Xeon, 2026-12-03, against one dense GEMM
of equal FLOPs, 95% intervals; the first three figures against the 10,240-column peer of that
morning, which ran a few percent slower than the peer now):

- The earlier version built grouped copies of x, dy, dx and both hidden blocks for all T·k
  rows: 224 MB of fresh pages a call at the benchmark's size. Its ratio moved with the host's
  page-fault cost: 0.83x [0.79, 0.85] in one run, 0.61x [0.57, 0.85] in the next. Blocks of
  2,048 rows: 0.85x [0.84, 0.86] with the GEMMs still inside njit.
- The GEMMs from Python (NumPy's copy of OpenBLAS instead of SciPy's, which `np.dot` in njit
  calls): 0.87x [0.86, 0.87] balanced. SciPy's copy ran the two transposed-A GEMMs of dw1 and
  dw2 at 129-131 GFLOP/s against NumPy's 139.
- Against the peer now (its width moved off a multiple of 256 columns): 0.840x [0.837, 0.847]
  balanced, 0.843x [0.833, 0.849] skewed, and 1.318x [1.299, 1.379] the torch baseline.

The GEMMs alone ran at 0.92x the aliased peer's rate in the layer; the gathers of x and dy
(16 ms of about 630), the hidden pass (7 ms) and the scatter of dx (5 ms) are the rest.
"""
from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def _route(expert, E):
    """Group offsets, and each grouped row's token and slot (stable counting sort by expert)."""
    T, k = expert.shape
    offsets = np.zeros(E + 1, dtype=np.int64)
    for t in range(T):
        for j in range(k):
            offsets[expert[t, j] + 1] += 1
    for e in range(E):
        offsets[e + 1] += offsets[e]
    cursor = offsets[:-1].copy()
    src = np.empty(T * k, dtype=np.int64)
    slot = np.empty(T * k, dtype=np.int64)
    for t in range(T):
        for j in range(k):
            e = expert[t, j]
            p = cursor[e]
            cursor[e] = p + 1
            src[p] = t
            slot[p] = j
    return src, slot, offsets


@numba.njit(cache=True, fastmath={"reassoc", "contract"})
def _hidden(h, da, gate, src, slot, lo, dgate):
    """In place, per row of the block: dgate = Σ relu(h)·da; da <- g·da·[h > 0]; h <- g·relu(h).
    Branch-free selects and a reassociated sum, so it vectorises."""
    n, H = h.shape
    zero = h.dtype.type(0)
    for i in range(n):
        t, j = src[lo + i], slot[lo + i]
        g = h.dtype.type(gate[t, j])
        acc = zero
        for c in range(H):
            a = max(h[i, c], zero)
            acc += a * da[i, c]
            da[i, c] = g * da[i, c] if h[i, c] > zero else zero
            h[i, c] = g * a
        dgate[t, j] = acc


BLOCK = 2048  # rows of one expert at a time, as in moe-dropless's Numba reference


@numba.njit(cache=True)
def _gather(x, dy, src, lo, xe, dye):
    """The block's token rows of x and dy, contiguous for the GEMMs."""
    for i in range(xe.shape[0]):
        t = src[lo + i]
        for d in range(x.shape[1]):
            xe[i, d] = x[t, d]
            dye[i, d] = dy[t, d]


@numba.njit(cache=True)
def _scatter(dx, src, lo, dxe):
    """Each row of the block added into its token's row of dx (repeated tokens add up)."""
    for i in range(dxe.shape[0]):
        t = src[lo + i]
        for d in range(dx.shape[1]):
            dx[t, d] += dxe[i, d]


def _experts(x, dy, gate, src, slot, offsets, w1, w2, dx, dgate, dw1, dw2):
    """Every expert's rows, BLOCK at a time (the last block up to 1.5x), through buffers
    allocated once."""
    b, (D, H), f = min(BLOCK + BLOCK // 2, src.size), w1.shape[1:], x.dtype  # the last block up to 1.5x
    xb, dyb, dxb, hb, dab = (np.empty((b, D), f), np.empty((b, D), f), np.empty((b, D), f),
                             np.empty((b, H), f), np.empty((b, H), f))
    dw1_part, dw2_part = np.empty((D, H), f), np.empty((H, D), f)  # an expert's later blocks
    for e in range(w1.shape[0]):
        start, end = int(offsets[e]), int(offsets[e + 1])
        lo = start
        while lo < end:
            n = end - lo if end - lo <= b else BLOCK  # no short tail block: the last takes up to BLOCK // 2 more
            xe, dye, dxe, h, da = xb[:n], dyb[:n], dxb[:n], hb[:n], dab[:n]
            _gather(x, dy, src, lo, xe, dye)
            np.matmul(xe, w1[e], out=h)
            np.matmul(dye, w2[e].T, out=da)
            _hidden(h, da, gate, src, slot, lo, dgate)  # h -> g·relu(h), da -> dh
            if lo == start:
                np.matmul(h.T, dye, out=dw2[e])
                np.matmul(xe.T, da, out=dw1[e])
            else:
                dw2[e] += np.matmul(h.T, dye, out=dw2_part)
                dw1[e] += np.matmul(xe.T, da, out=dw1_part)
            np.matmul(da, w1[e].T, out=dxe)
            _scatter(dx, src, lo, dxe)
            lo += n


def moe_dropless_backward(x: np.ndarray, expert: np.ndarray, gate: np.ndarray, w1: np.ndarray,
                          w2: np.ndarray, dy: np.ndarray):
    T, D = x.shape
    k = expert.shape[1]
    E, _, H = w1.shape
    x = np.ascontiguousarray(x)
    src, slot, offsets = _route(np.ascontiguousarray(expert), E)
    dx = np.zeros((T, D), dtype=x.dtype)
    dgate = np.zeros((T, k), dtype=np.float64)
    dw1, dw2 = np.zeros_like(w1), np.zeros_like(w2)  # an expert with no rows keeps zeros
    if src.size and D and H:  # otherwise every sum is empty
        _experts(x, np.ascontiguousarray(dy), np.ascontiguousarray(gate), src, slot, offsets,
                 np.ascontiguousarray(w1), np.ascontiguousarray(w2), dx, dgate, dw1, dw2)
    return dx, dgate, dw1, dw2
