"""deepseek-moe-forward, NumPy reference (the oracle): a DeepSeekMoE layer.

Shared experts run on every token; routed experts on the tokens DeepSeek-V3's router sends
them (sigmoid affinities, a selection-only bias, group-limited top-k, normalised gates times
route_scale). Every expert is a SwiGLU FFN, (silu(x Wg) * (x Wu)) Wd. The Ns shared experts
are one FFN of hidden size Ns*H (their weights concatenated along the hidden axis), so they cost
two big GEMMs over all tokens; the routed experts are grouped by expert (a stable argsort of the
chosen experts) and run one GEMM triple each, then scatter-added with their gates. The routing
rule is the deepseek-router contract, repeated here because a solution file stands alone.
"""
from __future__ import annotations

import numpy as np


def _sigmoid(z: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def route(logits: np.ndarray, bias: np.ndarray, k: int, n_groups: int, top_groups: int):
    """(expert, gate) under the deepseek-router rules; gates not yet scaled."""
    z = logits.astype(np.float64)
    T, E = z.shape
    s = _sigmoid(z)
    q = s + bias
    if n_groups > 1:
        grouped = q.reshape(T, n_groups, E // n_groups)
        two = np.sort(grouped, axis=2)[:, :, -2:]
        keep = np.argsort(-(two[:, :, 1] + two[:, :, 0]), axis=1, kind="stable")[:, :top_groups]
        allowed = np.zeros((T, n_groups), dtype=bool)
        np.put_along_axis(allowed, keep, True, axis=1)
        q = np.where(allowed[:, :, None], grouped, -np.inf).reshape(T, E)
    expert = np.argsort(-q, axis=1, kind="stable")[:, :k]
    chosen = np.take_along_axis(s, expert, axis=1)
    return expert, chosen / chosen.sum(axis=1, keepdims=True)


def _swiglu(x: np.ndarray, w_gate: np.ndarray, w_up: np.ndarray, w_down: np.ndarray) -> np.ndarray:
    g = x @ w_gate
    g *= 1.0 / (1.0 + np.exp(-g))  # silu(g) = g * sigmoid(g)
    g *= x @ w_up
    return g @ w_down


def deepseek_moe_forward(x: np.ndarray, w_router: np.ndarray, bias: np.ndarray, shared: tuple, routed: tuple,
                         k: int, n_groups: int, top_groups: int, route_scale: float) -> np.ndarray:
    T, D = x.shape
    sg, su, sd = shared
    rg, ru, rd = routed
    E = rg.shape[0]
    y = np.zeros((T, D), dtype=x.dtype)
    if sg.shape[0] and T:  # Ns shared experts = one FFN with the hidden axes side by side
        y += _swiglu(x, sg.transpose(1, 0, 2).reshape(D, -1), su.transpose(1, 0, 2).reshape(D, -1),
                     sd.reshape(-1, D))
    expert, gate = route(x @ w_router, np.asarray(bias, dtype=np.float64), k, n_groups, top_groups)
    gate = (gate * route_scale).astype(x.dtype)
    flat = expert.reshape(-1)
    order = np.argsort(flat, kind="stable")  # group the T*k assignments by expert
    tok = order // k
    g = gate.reshape(-1)[order]
    bounds = np.searchsorted(flat[order], np.arange(E + 1))
    for e in range(E):
        lo, hi = bounds[e], bounds[e + 1]
        if lo == hi:
            continue
        rows = tok[lo:hi]  # distinct tokens: a token never picks an expert twice
        out = _swiglu(x[rows], rg[e], ru[e], rd[e])
        out *= g[lo:hi, None]
        y[rows] += out
    return y
