"""expert-choice, Numba reference (the speed yardstick): O(T·E) expected, no sort.

1. One pass over the tokens writes the softmax transposed, pT[e, t] = p[t, e], so that
   each expert's column is contiguous (through a small block buffer: see _softmax_transposed).
2. Per expert: the C-th largest probability by quickselect on a scratch copy (expected
   O(T), Hoare partition, which splits runs of equal values evenly); then one ascending pass
   over the tokens takes every token above that threshold and, while places remain, the
   tokens equal to it. The ascending pass is what gives the lower token index the tie, and
   it writes the winners already in ascending order.
3. Tokens no expert took: a flag per token, then one pass.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numba
import numpy as np


class ExpertChoice(NamedTuple):
    tokens: np.ndarray  # (E, C) int: the tokens expert e takes, ascending
    gates: np.ndarray  # (E, C) float64: p[token, e] for each of them
    unassigned: np.ndarray  # (U,) int: tokens no expert took, ascending


@numba.njit(cache=True)
def _softmax_transposed(z, pT):
    """pT[e, t] = softmax(z[t])[e], a block of BLOCK tokens at a time: the rows go through a small
    buffer and leave as contiguous runs of pT's rows. (Writing pT[e, t] token by token strides by
    T·8 bytes, a power of two at the timed sizes: every write of a token lands in the same cache
    set, and that alone made this pass six times slower.)"""
    T, E = z.shape
    BLOCK = 64
    buf = np.empty((BLOCK, E))
    for t0 in range(0, T, BLOCK):
        n = min(BLOCK, T - t0)
        for i in range(n):
            t = t0 + i
            m = z[t, 0]
            for e in range(1, E):
                if z[t, e] > m:
                    m = z[t, e]
            s = 0.0
            for e in range(E):
                v = math.exp(z[t, e] - m)  # the largest is exp(0) = 1: no overflow, s >= 1
                buf[i, e] = v
                s += v
            for e in range(E):
                buf[i, e] /= s
        for e in range(E):
            for i in range(n):
                pT[e, t0 + i] = buf[i, e]


@numba.njit(cache=True)
def _kth_largest(a, kth):
    """The kth largest value of a (0-based), reordering a in place: quickselect."""
    target = a.size - 1 - kth  # its index in ascending order
    lo, hi = 0, a.size - 1
    while lo < hi:
        mid = (lo + hi) >> 1  # median of three as the pivot: sorted and reversed runs stay O(n)
        x, y, w = a[lo], a[mid], a[hi]
        pivot = max(min(x, y), min(max(x, y), w))
        i, j = lo, hi
        while i <= j:  # Hoare: elements equal to the pivot go to both sides, so ties do not degrade it
            while a[i] < pivot:
                i += 1
            while a[j] > pivot:
                j -= 1
            if i <= j:
                a[i], a[j] = a[j], a[i]
                i += 1
                j -= 1
        if target <= j:
            hi = j
        elif target >= i:
            lo = i
        else:
            return a[target]  # between the two parts: equal to the pivot
    return a[target]


@numba.njit(cache=True)
def _choose(pT, C, tokens, gates, taken):
    E, T = pT.shape
    scratch = np.empty(T)
    for e in range(E):
        col = pT[e]
        scratch[:] = col
        thr = _kth_largest(scratch, C - 1)
        ties = C  # places left for tokens equal to the threshold, after those above it
        for t in range(T):
            if col[t] > thr:
                ties -= 1
        n = 0
        for t in range(T):  # ascending: the lower index wins a tie
            v = col[t]
            if v > thr or (v == thr and ties > 0):
                if v == thr:
                    ties -= 1
                tokens[e, n] = t
                gates[e, n] = v
                taken[t] = True
                n += 1


def expert_choice(logits: np.ndarray, capacity_factor: float) -> ExpertChoice:
    z = np.ascontiguousarray(logits, dtype=np.float64)
    T, E = z.shape
    C = min(T, math.ceil(T * capacity_factor / E))  # evaluated left to right, as the contract says
    tokens = np.empty((E, C), dtype=np.int64)
    gates = np.empty((E, C), dtype=np.float64)
    taken = np.zeros(T, dtype=np.bool_)
    if T:
        pT = np.empty((E, T))
        _softmax_transposed(z, pT)
        _choose(pT, C, tokens, gates, taken)
    return ExpertChoice(tokens, gates, np.flatnonzero(~taken).astype(np.int64))
