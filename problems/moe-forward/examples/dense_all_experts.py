# expected-verdict: WA
"""Not a sparse MoE: every token goes through every expert and the outputs are mixed by
the full softmax. That is a dense "soft" mixture: E times the FLOPs of the top-k layer,
and a different function (no top-k, no capacity)."""
import numpy as np


def moe_forward(x, w_router, w1, w2, k, capacity_factor=None):
    z = (x @ w_router).astype(np.float64)
    p = np.exp(z - (z.max(axis=1, keepdims=True) if len(z) else 0.0))
    p /= p.sum(axis=1, keepdims=True)
    y = np.zeros_like(x)
    for e in range(w1.shape[0]):
        y += p[:, e:e + 1].astype(x.dtype) * (np.maximum(x @ w1[e], 0) @ w2[e])
    return y
