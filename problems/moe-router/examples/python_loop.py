# expected-verdict: AC
"""Correct but slow: one token at a time in pure Python (math.exp, sorted), then the
capacity pass. The same contract as the reference, ~100x slower."""
import math

import numpy as np


def route(logits, k, capacity_factor):
    T, E = logits.shape
    rows = np.asarray(logits, dtype=np.float64).tolist()
    expert, gate, probs_sum, first, lse_sq = [], [], [0.0] * E, [0] * E, 0.0
    for row in rows:
        m = max(row)
        exps = [math.exp(v - m) for v in row]
        s = sum(exps)
        lse_sq += (m + math.log(s)) ** 2
        p = [v / s for v in exps]
        for e in range(E):
            probs_sum[e] += p[e]
        top = sorted(range(E), key=lambda e: (-row[e], e))[:k]  # by logit, then lower index
        first[top[0]] += 1
        total = p[top[0]] if k == 1 else sum(p[e] for e in top)
        expert.append(top)
        gate.append([p[e] / total if k > 1 else p[e] for e in top])
    kept = [[True] * k for _ in range(T)]
    if capacity_factor is not None:
        C = math.ceil(capacity_factor * T * k / E)
        fill = [0] * E
        for j in range(k):
            for t in range(T):
                e = expert[t][j]
                kept[t][j] = fill[e] < C
                fill[e] += 1
    aux = E * sum(first[e] / T * probs_sum[e] / T for e in range(E)) if T else 0.0
    z = lse_sq / T if T else 0.0
    return (np.array(expert, dtype=np.int64).reshape(T, k), np.array(gate, dtype=np.float64).reshape(T, k),
            np.array(kept, dtype=bool).reshape(T, k), aux, z)
