"""moe-dropless, Numba reference (the speed yardstick): the whole layer in one compiled function,
one block of an expert's rows at a time.

The expert GEMMs (4·D·H FLOPs per assignment) are BLAS calls (`np.dot` with `out=` inside
njit). Around them, nothing the size of the T·k assignments is ever built, only their routing:

1. route: count the assignments per expert, prefix-sum the counts into offsets, and give every
   grouped row p its token src[p] and slot j (moe-dispatch's counting sort: stable, token
   order within an expert);
2. per expert, BLOCK rows at a time (the last block takes up to BLOCK // 2 more, so that no
   short tail block is left: routed loads are rarely a multiple of BLOCK), through three block
   buffers allocated once a call:
   gather the block's token rows of x, h = xb @ w1[e], relu in place, o = h @ w2[e], and add
   gate · o into each token's row of y (a scatter-add: each token's k terms arrive in expert
   order, not slot order; for k = 2 the sum is the same bits, 0 + a + b = 0 + b + a).

Why blocks of rows and not the grouped copy of every assignment: at the benchmark's
T·k = 16,384 and D = 512 the grouped x and the grouped output are 32 MiB each, fresh pages
every call (glibc maps a block that large anew each time), each written once and read once
more. Against one dense GEMM of equal FLOPs, balanced mix
(`python benchmarks/grouped_gemm_vs_dense.py --problem moe-dropless --rounds 41`, one thread,
the versions interleaved in one process): the earlier version (the grouped copies, then a
gathering combine) 0.874x [0.858, 0.882], this one 0.908x [0.901, 0.915]. Of blocks of 512,
2,048, 4,096 and 16,384 rows (two runs of 21 rounds), 2,048 was the fastest, but not by more than the
intervals from the larger ones (0.911x against 0.895x and 0.891x); 512 rows lost to BLAS's
per-call packing (0.80x). With moe-router's routing instead of the balanced mix (loads of
1,940-2,169 rows an expert), a 2,048-row block left tails of 8-121 rows: 0.884x
[0.878, 0.900]; letting the last block take them, 0.905x [0.898, 0.907] (15 interleaved
rounds, the balanced mix unchanged at 0.91x). All of these against the dense peer of 4,096
columns used that day, which ran 2-3% slower than the peer now (harness.yardstick.
equal_flop_shape); against the peer now this reference reads 0.890x [0.882, 0.899], balanced.
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


BLOCK = 2048  # rows of one expert at a time (the last block up to 1.5x): the hidden block is BLOCK x H


@numba.njit(cache=True)
def _layer(x, gate, src, slot, offsets, w1, w2, block, xb, hb, ob, y):
    """y += gate · relu(x[rows] @ w1[e]) @ w2[e] for every expert e, `block` rows at a time (the
    last block of an expert up to xb.shape[0] rows)."""
    D = x.shape[1]
    zero = hb.dtype.type(0)
    for e in range(w1.shape[0]):
        lo, end = offsets[e], offsets[e + 1]
        while lo < end:
            n = end - lo if end - lo <= xb.shape[0] else block  # the last block takes up to block // 2 more
            xe, he, oe = xb[:n], hb[:n], ob[:n]
            for i in range(n):  # gather: the block's token rows, contiguous for the GEMM
                t = src[lo + i]
                for d in range(D):
                    xe[i, d] = x[t, d]
            np.dot(xe, w1[e], he)
            for i in range(n):
                for c in range(he.shape[1]):
                    he[i, c] = max(he[i, c], zero)
            np.dot(he, w2[e], oe)
            for i in range(n):  # combine: each row back to its token, scaled by its gate
                t = src[lo + i]
                g = y.dtype.type(gate[t, slot[lo + i]])  # the gate in y's dtype first
                for d in range(D):
                    y[t, d] += g * oe[i, d]
            lo += n


def moe_dropless(x: np.ndarray, expert: np.ndarray, gate: np.ndarray, w1: np.ndarray,
                 w2: np.ndarray) -> np.ndarray:
    T, D = x.shape
    E, _, H = w1.shape
    x = np.ascontiguousarray(x)
    src, slot, offsets = _route(np.ascontiguousarray(expert), E)
    y = np.zeros((T, D), dtype=x.dtype)
    if src.size and D and H:  # otherwise every sum is empty: y stays 0
        b = min(BLOCK + BLOCK // 2, src.size)
        xb, hb, ob = (np.empty((b, D), dtype=x.dtype), np.empty((b, H), dtype=x.dtype),
                      np.empty((b, D), dtype=x.dtype))
        _layer(x, np.ascontiguousarray(gate), src, slot, offsets, np.ascontiguousarray(w1),
               np.ascontiguousarray(w2), BLOCK, xb, hb, ob, y)
    return y
