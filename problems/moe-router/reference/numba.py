"""moe-router, Numba reference (the speed yardstick): one pass over the tokens.

Per token: a max-subtracted softmax in float64 and a top-k by insertion into a k-long
list, comparing logits with a strict `>` in index order so the lower index keeps a tie.
Then one pass over the assignments in priority order (all 1st choices, then all 2nd
choices, ...) fills each expert's C slots. No (T, E) temporaries, no sort.
"""
from __future__ import annotations

import math

import numba
import numpy as np

from harness.types import Routing


@numba.njit(cache=True)
def _route(z, k, C, expert, gate, kept):
    """Fills expert/gate/kept; returns (sum_i f_i * P_i * T * T, sum of lse**2)."""
    T, E = z.shape
    p = np.empty(E)
    prob_sum = np.zeros(E)
    first = np.zeros(E, dtype=np.int64)
    lse_sq = 0.0
    for t in range(T):
        m = z[t, 0]
        for e in range(1, E):
            if z[t, e] > m:
                m = z[t, e]
        s = 0.0
        for e in range(E):
            p[e] = math.exp(z[t, e] - m)
            s += p[e]
        lse = m + math.log(s)
        lse_sq += lse * lse
        for e in range(E):
            p[e] /= s
            prob_sum[e] += p[e]
        n = 0  # top-k so far, sorted by descending logit
        for e in range(E):
            if n == k and not z[t, e] > z[t, expert[t, k - 1]]:
                continue
            i = min(n, k - 1)  # slot e lands in, shifting the smaller ones right
            while i > 0 and z[t, e] > z[t, expert[t, i - 1]]:
                expert[t, i] = expert[t, i - 1]
                i -= 1
            expert[t, i] = e
            n = min(n + 1, k)
        first[expert[t, 0]] += 1
        if k == 1:
            gate[t, 0] = p[expert[t, 0]]
        else:
            total = 0.0
            for j in range(k):
                total += p[expert[t, j]]
            for j in range(k):
                gate[t, j] = p[expert[t, j]] / total
    fill = np.zeros(E, dtype=np.int64)
    for j in range(k):
        for t in range(T):
            e = expert[t, j]
            kept[t, j] = C < 0 or fill[e] < C
            fill[e] += 1
    balance = 0.0
    for e in range(E):
        balance += first[e] * prob_sum[e]
    return balance, lse_sq


def route(logits: np.ndarray, k: int, capacity_factor: float | None) -> Routing:
    z = np.ascontiguousarray(logits, dtype=np.float64)
    T, E = z.shape
    C = -1 if capacity_factor is None else math.ceil(capacity_factor * T * k / E)
    expert = np.empty((T, k), dtype=np.int32)
    gate = np.empty((T, k), dtype=np.float64)
    kept = np.empty((T, k), dtype=np.bool_)
    balance, lse_sq = _route(z, k, C, expert, gate, kept)
    if T == 0:
        return Routing(expert, gate, kept, 0.0, 0.0)
    return Routing(expert, gate, kept, E * balance / (T * T), lse_sq / T)
