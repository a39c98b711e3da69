# expected-verdict: AC
"""Correct, and wasteful: the capacity-buffer layout with a capacity large enough that nothing
drops. Every expert gets C = max(count) slots in an (E, C, D) buffer (zeros where unused), one
batched matmul pair runs all experts at C rows, and the outputs are read back per assignment.
Dropless by padding: E·C / (T·k) times the FLOPs (about 2x when one of 4 experts takes half of
the assignments, E times when one expert takes everything). GShard and Switch use this layout
with C set by a capacity factor, and drop what does not fit instead."""
import numpy as np


def moe_dropless(x, expert, gate, w1, w2):
    T, D = x.shape
    k = expert.shape[1]
    E = w1.shape[0]
    flat = expert.reshape(-1)
    counts = np.bincount(flat, minlength=E)
    C = int(counts.max()) if flat.size else 0
    slot = np.zeros(flat.size, dtype=np.int64)  # the assignment's slot in its expert's buffer
    fill = np.zeros(E, dtype=np.int64)
    for a, e in enumerate(flat):
        slot[a] = fill[e]
        fill[e] += 1
    buf = np.zeros((E, C, D), dtype=x.dtype)
    buf[flat, slot] = np.repeat(x, k, axis=0)
    out = np.matmul(np.maximum(np.matmul(buf, w1), 0), w2)  # (E, C, D): every expert at C rows
    picked = out[flat, slot].reshape(T, k, D)
    return np.einsum("tk,tkd->td", gate.astype(x.dtype), picked).astype(x.dtype, copy=False)
