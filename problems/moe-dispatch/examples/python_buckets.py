# expected-verdict: AC
"""Correct but slow: one Python list per expert, filled by walking the assignments in index
order (which is what makes it stable), then concatenated. The same algorithm as the Numba
reference's counting sort, with a Python round trip per assignment."""
import numpy as np


def moe_dispatch(expert, num_experts):
    T, k = expert.shape
    buckets = [[] for _ in range(num_experts)]
    for a, e in enumerate(expert.reshape(-1).tolist()):
        if not 0 <= e < num_experts:
            raise ValueError(f"expert id {e} outside [0, {num_experts})")
        buckets[e].append(a)
    order = np.array([a for b in buckets for a in b], dtype=np.int64)
    counts = np.array([len(b) for b in buckets], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    inverse = np.empty(T * k, dtype=np.int64)
    inverse[order] = np.arange(T * k)
    return order, counts, offsets, inverse.reshape(T, k)
