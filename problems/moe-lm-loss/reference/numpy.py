"""moe-lm-loss, NumPy reference (the oracle): the tiny LM's forward pass in float64.

Self-contained on purpose: submissions and references are graded in a sandbox that may not
import tinylm/, so this file restates tinylm/model.py's forward pass;
tests/test_moe_lm.py checks that the two agree.
"""
import math

import numpy as np


def layer_norm(x, g, b, eps=1e-5):
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * g + b


def causal_attention(x, wqkv, wo, n_head):
    B, T, D = x.shape
    hd = D // n_head
    q, k, v = (x @ wqkv).reshape(B, T, 3, n_head, hd).transpose(2, 0, 3, 1, 4)  # each (B, h, T, hd)
    scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(hd)
    scores = np.where(np.tril(np.ones((T, T), dtype=bool)), scores, -np.inf)
    att = np.exp(scores - scores.max(axis=-1, keepdims=True))
    att /= att.sum(axis=-1, keepdims=True)
    return (att @ v).transpose(0, 2, 1, 3).reshape(B, T, D) @ wo


def route(logits, k, capacity_factor):
    """(expert, gate, kept, aux_loss, z_loss) as in the moe-router contract."""
    N, E = logits.shape
    m = logits.max(axis=1, keepdims=True)
    e = np.exp(logits - m)
    probs = e / e.sum(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(e.sum(axis=1))
    expert = np.argsort(-logits, axis=1, kind="stable")[:, :k]  # moe-router rule 2: by logit, ties -> lower index
    chosen = np.take_along_axis(probs, expert, axis=1)
    gate = chosen if k == 1 else chosen / chosen.sum(axis=1, keepdims=True)
    kept = np.ones((N, k), dtype=bool)
    if capacity_factor is not None:
        capacity = math.ceil(capacity_factor * N * k / E)
        used = np.zeros(E, dtype=np.int64)
        for j in range(k):  # all 1st choices in token order, then all 2nd choices, ...
            for t in range(N):
                kept[t, j] = used[expert[t, j]] < capacity
                used[expert[t, j]] += kept[t, j]
    f = np.bincount(expert[:, 0], minlength=E) / N  # 1st choices, before dropping
    aux = E * float(f @ probs.mean(axis=0))
    z = float(np.mean(lse**2))
    return expert, gate, kept, aux, z


def moe(x, w_router, w1, w2, k, capacity_factor):
    expert, gate, kept, aux, z = route(x @ w_router, k, capacity_factor)
    y = np.zeros_like(x)
    for e in range(w1.shape[0]):
        tok, slot = np.nonzero((expert == e) & kept)  # each token at most once per expert
        if tok.size:
            y[tok] += gate[tok, slot, None] * (np.maximum(x[tok] @ w1[e], 0) @ w2[e])
    return y, aux, z


def moe_lm_loss(params, idx, targets, config):
    B, T = idx.shape
    L = len({name.split(".")[1] for name in params if name.startswith("blocks.")})
    x = params["wte"][idx] + params["wpe"][:T]
    aux_total = z_total = 0.0
    for l in range(L):
        b = f"blocks.{l}."
        a = layer_norm(x, params[b + "ln1.g"], params[b + "ln1.b"])
        x = x + causal_attention(a, params[b + "attn.wqkv"], params[b + "attn.wo"], config["n_head"])
        m = layer_norm(x, params[b + "ln2.g"], params[b + "ln2.b"]).reshape(B * T, -1)
        if b + "moe.router" in params:
            f, aux, z = moe(m, params[b + "moe.router"], params[b + "moe.w1"], params[b + "moe.w2"],
                            config["top_k"], config["capacity_factor"])
            aux_total, z_total = aux_total + aux, z_total + z
        else:
            f = np.maximum(m @ params[b + "ffn.w1"], 0) @ params[b + "ffn.w2"]
        x = x + f.reshape(B, T, -1)
    logits = layer_norm(x, params["ln_f.g"], params["ln_f.b"]) @ params["head"]
    mx = logits.max(axis=-1, keepdims=True)
    logp = logits - mx - np.log(np.exp(logits - mx).sum(axis=-1, keepdims=True))
    ce = -float(np.take_along_axis(logp, targets[..., None], axis=-1).mean())
    return ce, aux_total, z_total
