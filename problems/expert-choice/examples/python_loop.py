# expected-verdict: AC
"""Correct but slow: the statement transcribed token by token and expert by expert in pure
Python (math.exp, sorted with a (-p, t) key). The same answers as the references, far slower."""
import math

import numpy as np


def expert_choice(logits, capacity_factor):
    T, E = logits.shape
    C = min(T, math.ceil(T * capacity_factor / E))
    p = []
    for row in np.asarray(logits, dtype=np.float64).tolist():
        m = max(row)
        ex = [math.exp(v - m) for v in row]
        s = sum(ex)
        p.append([v / s for v in ex])
    tokens, gates, taken = [], [], [False] * T
    for e in range(E):
        chosen = sorted(sorted(range(T), key=lambda t: (-p[t][e], t))[:C])
        tokens.append(chosen)
        gates.append([p[t][e] for t in chosen])
        for t in chosen:
            taken[t] = True
    return (np.array(tokens, dtype=np.int64).reshape(E, C), np.array(gates, dtype=np.float64).reshape(E, C),
            np.array([t for t in range(T) if not taken[t]], dtype=np.int64))
