"""moe-lm-grad, NumPy reference (the oracle): forward with caches, then backward, in float64.

Self-contained on purpose (the sandbox forbids importing tinylm/): it restates the backward
pass of tinylm/model.py; tests/test_moe_lm.py checks the two agree and
checks this file against finite differences.

Loss = mean cross-entropy + aux_coef * sum_l aux_l + z_coef * sum_l z_l, routing decisions
(chosen experts, kept mask, the 1st-choice fractions f) held fixed.
"""
import math

import numpy as np


# -- layer norm -------------------------------------------------------------------------------
def ln_forward(x, g, b, eps=1e-5):
    mu = x.mean(axis=-1, keepdims=True)
    rstd = 1.0 / np.sqrt(((x - mu) ** 2).mean(axis=-1, keepdims=True) + eps)
    xhat = (x - mu) * rstd
    return xhat * g + b, (xhat, rstd, g)


def ln_backward(dy, cache):
    xhat, rstd, g = cache
    axes = tuple(range(dy.ndim - 1))
    dxhat = dy * g
    dx = rstd * (dxhat - dxhat.mean(axis=-1, keepdims=True) - xhat * (dxhat * xhat).mean(axis=-1, keepdims=True))
    return dx, (dy * xhat).sum(axis=axes), dy.sum(axis=axes)


# -- causal self-attention --------------------------------------------------------------------
def attn_forward(x, wqkv, wo, n_head):
    B, T, D = x.shape
    hd = D // n_head
    q, k, v = (x @ wqkv).reshape(B, T, 3, n_head, hd).transpose(2, 0, 3, 1, 4)
    scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(hd)
    scores = np.where(np.tril(np.ones((T, T), dtype=bool)), scores, -np.inf)
    att = np.exp(scores - scores.max(axis=-1, keepdims=True))
    att /= att.sum(axis=-1, keepdims=True)
    y = (att @ v).transpose(0, 2, 1, 3).reshape(B, T, D)
    return y @ wo, (x, q, k, v, att, y)


def attn_backward(dout, cache, wqkv, wo, n_head):
    x, q, k, v, att, y = cache
    B, T, D = x.shape
    hd = D // n_head
    dwo = y.reshape(-1, D).T @ dout.reshape(-1, D)
    dy = (dout @ wo.T).reshape(B, T, n_head, hd).transpose(0, 2, 1, 3)
    datt = dy @ v.transpose(0, 1, 3, 2)
    dv = att.transpose(0, 1, 3, 2) @ dy
    dscores = att * (datt - (datt * att).sum(axis=-1, keepdims=True)) / math.sqrt(hd)  # softmax backward
    dq, dk = dscores @ k, dscores.transpose(0, 1, 3, 2) @ q
    dqkv = np.stack([dq, dk, dv]).transpose(1, 3, 0, 2, 4).reshape(B, T, 3 * D)
    return dqkv @ wqkv.T, x.reshape(-1, D).T @ dqkv.reshape(-1, 3 * D), dwo


# -- mixture of experts -----------------------------------------------------------------------
def moe_forward(x, wr, w1, w2, k, capacity_factor):
    N, E = x.shape[0], wr.shape[1]
    logits = x @ wr
    m = logits.max(axis=1, keepdims=True)
    ex = np.exp(logits - m)
    probs = ex / ex.sum(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(ex.sum(axis=1))
    expert = np.argsort(-logits, axis=1, kind="stable")[:, :k]  # by logit (moe-router rule 2)
    chosen = np.take_along_axis(probs, expert, axis=1)
    gate = chosen if k == 1 else chosen / chosen.sum(axis=1, keepdims=True)
    kept = np.ones((N, k), dtype=bool)
    if capacity_factor is not None:
        capacity = math.ceil(capacity_factor * N * k / E)
        order = expert.T.reshape(-1)  # priority: all 1st choices in token order, then 2nd, ...
        rank = np.empty(order.size, dtype=np.int64)
        by_expert = np.argsort(order, kind="stable")
        starts = np.searchsorted(order[by_expert], np.arange(E))
        rank[by_expert] = np.arange(order.size) - starts[order[by_expert]]
        kept = (rank < capacity).reshape(k, N).T
    f = np.bincount(expert[:, 0], minlength=E) / N
    aux, z = E * float(f @ probs.mean(axis=0)), float(np.mean(lse**2))
    y = np.zeros_like(x)
    per_expert = []
    for e in range(E):
        tok, slot = np.nonzero((expert == e) & kept)
        h = np.maximum(x[tok] @ w1[e], 0)
        out = h @ w2[e]
        y[tok] += gate[tok, slot, None] * out
        per_expert.append((tok, slot, h, out))
    return y, aux, z, (x, probs, lse, expert, gate, f, per_expert)


def moe_backward(dy, cache, wr, w1, w2, aux_coef, z_coef):
    x, probs, lse, expert, gate, f, per_expert = cache
    N, k = expert.shape
    E = wr.shape[1]
    dx, dw1, dw2 = np.zeros_like(x), np.zeros_like(w1), np.zeros_like(w2)
    dgate = np.zeros((N, k))
    for e, (tok, slot, h, out) in enumerate(per_expert):
        d_out = dy[tok]
        dgate[tok, slot] = (d_out * out).sum(axis=1)
        d_out = gate[tok, slot, None] * d_out
        dw2[e] = h.T @ d_out
        dpre = (d_out @ w2[e].T) * (h > 0)
        dw1[e] = x[tok].T @ dpre
        dx[tok] += dpre @ w1[e].T
    if k == 1:
        dchosen = dgate
    else:  # gate = p / sum(p over the k chosen)
        s = np.take_along_axis(probs, expert, axis=1).sum(axis=1, keepdims=True)
        dchosen = (dgate - (dgate * gate).sum(axis=1, keepdims=True)) / s
    dprobs = np.zeros_like(probs)
    np.put_along_axis(dprobs, expert, dchosen, axis=1)
    dprobs += aux_coef * E * f / N
    dlogits = probs * (dprobs - (dprobs * probs).sum(axis=1, keepdims=True))
    dlogits += z_coef * 2.0 * lse[:, None] * probs / N
    dx += dlogits @ wr.T
    return dx, x.T @ dlogits, dw1, dw2


# -- the model --------------------------------------------------------------------------------
def moe_lm_grad(params, idx, targets, config):
    B, T = idx.shape
    L = len({name.split(".")[1] for name in params if name.startswith("blocks.")})
    nh, k, cf = config["n_head"], config["top_k"], config["capacity_factor"]
    x = params["wte"][idx] + params["wpe"][:T]
    caches = []
    for l in range(L):
        b = f"blocks.{l}."
        a, c1 = ln_forward(x, params[b + "ln1.g"], params[b + "ln1.b"])
        a, ca = attn_forward(a, params[b + "attn.wqkv"], params[b + "attn.wo"], nh)
        x = x + a
        m, c2 = ln_forward(x, params[b + "ln2.g"], params[b + "ln2.b"])
        m = m.reshape(B * T, -1)
        if b + "moe.router" in params:
            f, _, _, cf_cache = moe_forward(m, params[b + "moe.router"], params[b + "moe.w1"],
                                            params[b + "moe.w2"], k, cf)
        else:
            h = np.maximum(m @ params[b + "ffn.w1"], 0)
            f, cf_cache = h @ params[b + "ffn.w2"], (m, h)
        x = x + f.reshape(B, T, -1)
        caches.append((c1, ca, c2, cf_cache))
    xf, cf_final = ln_forward(x, params["ln_f.g"], params["ln_f.b"])
    logits = xf @ params["head"]

    g = {}
    mx = logits.max(axis=-1, keepdims=True)
    dlogits = np.exp(logits - mx)
    dlogits /= dlogits.sum(axis=-1, keepdims=True)  # softmax
    bi, ti = np.indices((B, T))
    dlogits[bi, ti, targets] -= 1.0
    dlogits /= B * T
    g["head"] = xf.reshape(B * T, -1).T @ dlogits.reshape(B * T, -1)
    dx, g["ln_f.g"], g["ln_f.b"] = ln_backward(dlogits @ params["head"].T, cf_final)
    for l in reversed(range(L)):
        b = f"blocks.{l}."
        c1, ca, c2, cf_cache = caches[l]
        df = dx.reshape(B * T, -1)
        if b + "moe.router" in params:
            dm, g[b + "moe.router"], g[b + "moe.w1"], g[b + "moe.w2"] = moe_backward(
                df, cf_cache, params[b + "moe.router"], params[b + "moe.w1"], params[b + "moe.w2"],
                config["aux_coef"], config["z_coef"])
        else:
            m, h = cf_cache
            g[b + "ffn.w2"] = h.T @ df
            dpre = (df @ params[b + "ffn.w2"].T) * (h > 0)
            g[b + "ffn.w1"] = m.T @ dpre
            dm = dpre @ params[b + "ffn.w1"].T
        d, g[b + "ln2.g"], g[b + "ln2.b"] = ln_backward(dm.reshape(B, T, -1), c2)
        dx = dx + d
        da, g[b + "attn.wqkv"], g[b + "attn.wo"] = attn_backward(dx, ca, params[b + "attn.wqkv"],
                                                                params[b + "attn.wo"], nh)
        d, g[b + "ln1.g"], g[b + "ln1.b"] = ln_backward(da, c1)
        dx = dx + d
    g["wpe"] = np.zeros_like(params["wpe"])
    g["wpe"][:T] = dx.sum(axis=0)
    g["wte"] = np.zeros_like(params["wte"])
    np.add.at(g["wte"], idx.reshape(-1), dx.reshape(B * T, -1))
    return {name: g[name] for name in params}
