"""deepseek-router, Numba reference (the speed yardstick): one pass over the tokens.

Per token: sigmoid affinities and biased scores into two E-long buffers; each group's two
largest biased scores (one pass); the best top_groups groups and then the top k experts of the
allowed groups by insertion into short sorted lists, comparing with a strict `>` in index
order so the lower index keeps every tie; the gates; the load. For the balance loss the same
pass keeps, per sequence, the counts of each expert in the token's plain top-k (ranked by logit)
and the sums of the normalised affinities, and folds them into the loss at the sequence's end.
No (T, E) temporaries, no sort.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numba
import numpy as np


class DeepSeekRouting(NamedTuple):
    expert: np.ndarray  # (T, k) int: by descending s + b, ties -> lower index
    gate: np.ndarray  # (T, k) float64: chosen s normalised to sum 1
    load: np.ndarray  # (E,) int: tokens that chose each expert
    new_bias: np.ndarray  # (E,) float64: b + gamma * sign(mean load - load)
    balance_loss: float  # alpha * sum_i f_i P_i, per sequence, averaged over sequences


@numba.njit(cache=True)
def _insert(keys, order, n, cap, key, item):
    """Insert item (with score key) into order[:n], kept by descending key; strict > keeps the
    earlier (lower-index) item first on ties. Returns the new length (at most cap)."""
    if n == cap and not key > keys[order[cap - 1]]:
        return n
    i = min(n, cap - 1)
    while i > 0 and key > keys[order[i - 1]]:
        order[i] = order[i - 1]
        i -= 1
    order[i] = item
    return min(n + 1, cap)


@numba.njit(cache=True)
def _route(z, b, k, G, M, S, alpha, expert, gate, load):
    T, E = z.shape
    n = E // G  # experts per group
    s = np.empty(E)
    q = np.empty(E)
    group_score = np.empty(G)
    groups = np.empty(M, dtype=np.int64)
    allowed = np.zeros(G, dtype=np.bool_)
    top = np.empty(k, dtype=np.int64)
    count = np.zeros(E)  # per sequence: how often each expert is in a token's plain top-k
    psum = np.zeros(E)  # per sequence: sum over tokens of s / sum(s)
    loss = 0.0
    for t in range(T):
        total = 0.0
        for e in range(E):
            v = z[t, e]
            if v >= 0.0:
                s[e] = 1.0 / (1.0 + math.exp(-v))
            else:
                w = math.exp(v)
                s[e] = w / (1.0 + w)
            q[e] = s[e] + b[e]
            total += s[e]
        if G > 1:
            for g in range(G):  # sum of the two largest biased scores of each group
                a1 = -np.inf
                a2 = -np.inf
                for e in range(g * n, (g + 1) * n):
                    if q[e] > a1:
                        a2 = a1
                        a1 = q[e]
                    elif q[e] > a2:
                        a2 = q[e]
                group_score[g] = a1 + a2
            m = 0
            for g in range(G):
                m = _insert(group_score, groups, m, M, group_score[g], g)
            allowed[:] = False
            for i in range(M):
                allowed[groups[i]] = True
        m = 0
        for e in range(E):
            if G == 1 or allowed[e // n]:
                m = _insert(q, expert[t], m, k, q[e], e)
        chosen = 0.0
        for j in range(k):
            chosen += s[expert[t, j]]
        for j in range(k):
            gate[t, j] = s[expert[t, j]] / chosen
            load[expert[t, j]] += 1
        m = 0  # balance loss: the plain top-k by logit, no bias and no groups
        for e in range(E):
            m = _insert(z[t], top, m, k, z[t, e], e)
        for j in range(k):
            count[top[j]] += 1.0
        inv = 1.0 / total  # one division per token, not E (P only enters the loss: 1e-9 relative)
        for e in range(E):
            psum[e] += s[e] * inv
        if (t + 1) % S == 0:  # the sequence ends: alpha * sum_i f_i * P_i
            acc = 0.0
            for e in range(E):
                acc += (count[e] * E / (k * S)) * (psum[e] / S)
            loss += alpha * acc
            count[:] = 0.0
            psum[:] = 0.0
    return loss


def deepseek_route(logits: np.ndarray, bias: np.ndarray, k: int, n_groups: int, top_groups: int,
                   seq_len: int, alpha: float, gamma: float) -> DeepSeekRouting:
    z = np.ascontiguousarray(logits, dtype=np.float64)
    b = np.ascontiguousarray(bias, dtype=np.float64)
    T, E = z.shape
    expert = np.empty((T, k), dtype=np.int64)
    gate = np.empty((T, k), dtype=np.float64)
    load = np.zeros(E, dtype=np.int64)
    loss = _route(z, b, k, n_groups, top_groups, seq_len, float(alpha), expert, gate, load)
    new_bias = b + gamma * np.sign(T * k - E * load)  # sign(mean load - load), exact in integers
    return DeepSeekRouting(expert, gate, load, new_bias, loss / (T // seq_len) if T else 0.0)
