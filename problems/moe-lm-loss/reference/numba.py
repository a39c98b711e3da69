"""moe-lm-loss, Numba reference (the speed yardstick): the tiny LM's forward pass in float64.

The GEMMs (qkv and output projections, router, the experts, the unembedding) stay NumPy/BLAS
calls. What the NumPy reference spends most of its time on is everything between them, and
each of those is one compiled pass here:

- causal attention, fused per (sequence, head, query): scores against keys 0..t only, a
  running max, exp, the weighted sum of values, with no (B, h, T, T) score, mask or
  probability arrays (half the score FLOPs: the masked half is never computed);
- LayerNorm, one row at a time (mean, variance, scale) in one pass over the row;
- the router (softmax, top-k by logit, gates, capacity, aux and z losses), the dispatch (a
  counting sort of the kept assignments by expert, gathering their rows as it goes), each
  expert's relu, and the combine (each token gathers its k rows: no scatter);
- cross-entropy: log-softmax and the target's entry per row, without a (N, V) temporary.

Self-contained (the sandbox forbids importing tinylm/ or problems/); tests/test_problems.py
grades it against the NumPy oracle.
"""
import math

import numba
import numpy as np


@numba.njit(cache=True)
def _layer_norm(x, g, b, out):
    N, D = x.shape
    for n in range(N):
        mu = 0.0
        for d in range(D):
            mu += x[n, d]
        mu /= D
        var = 0.0
        for d in range(D):
            var += (x[n, d] - mu) ** 2
        rstd = 1.0 / math.sqrt(var / D + 1e-5)
        for d in range(D):
            out[n, d] = (x[n, d] - mu) * rstd * g[d] + b[d]


@numba.njit(cache=True, fastmath={"reassoc"})  # reassoc: the q.k dot products vectorise
def _causal_attention(qkv, B, T, n_head, y):
    """y[b*T + t, head h] = sum_{j <= t} softmax_j(q_t . k_j / sqrt(hd)) v_j, from qkv = x @ wqkv."""
    D = y.shape[1]
    hd = D // n_head
    scale = 1.0 / math.sqrt(hd)
    s = np.empty(T)
    acc = np.empty(hd)
    for b in range(B):
        for h in range(n_head):
            q0, k0, v0 = h * hd, D + h * hd, 2 * D + h * hd
            for t in range(T):
                q = qkv[b * T + t, q0:q0 + hd]
                m = -np.inf
                for j in range(t + 1):
                    kj = qkv[b * T + j, k0:k0 + hd]
                    dot = 0.0
                    for c in range(hd):
                        dot += q[c] * kj[c]
                    s[j] = dot * scale
                    m = max(m, s[j])
                total = 0.0
                acc[:] = 0.0
                for j in range(t + 1):
                    p = math.exp(s[j] - m)
                    total += p
                    vj = qkv[b * T + j, v0:v0 + hd]
                    for c in range(hd):
                        acc[c] += p * vj[c]
                for c in range(hd):
                    y[b * T + t, h * hd + c] = acc[c] / total


@numba.njit(cache=True)
def _route(logits, k, capacity):
    """(expert, gate, kept, aux, z): softmax, top-k by logit (equal logits to the lower index),
    gates (k = 1 raw, else renormalised), capacity in priority order (capacity < 0: none)."""
    N, E = logits.shape
    expert = np.empty((N, k), dtype=np.int64)
    gate = np.empty((N, k))
    kept = np.ones((N, k), dtype=np.bool_)
    p = np.empty(E)
    mean_p = np.zeros(E)
    first = np.zeros(E)
    taken = np.zeros(E, dtype=np.bool_)
    z = 0.0
    for t in range(N):
        m = logits[t, 0]
        for e in range(1, E):
            m = max(m, logits[t, e])
        s = 0.0
        for e in range(E):
            p[e] = math.exp(logits[t, e] - m)
            s += p[e]
        for e in range(E):
            p[e] /= s
            mean_p[e] += p[e]
        lse = m + math.log(s)
        z += lse * lse
        taken[:] = False
        chosen = 0.0
        for j in range(k):  # the j-th: the first strict maximum of the logits not yet taken
            best = -1
            for e in range(E):
                if not taken[e] and (best < 0 or logits[t, e] > logits[t, best]):
                    best = e
            taken[best] = True
            expert[t, j] = best
            gate[t, j] = p[best]
            chosen += p[best]
        if k > 1:
            for j in range(k):
                gate[t, j] /= chosen
        first[expert[t, 0]] += 1.0
    if capacity >= 0:
        used = np.zeros(E, dtype=np.int64)
        for j in range(k):  # all 1st choices in token order, then all 2nd choices, ...
            for t in range(N):
                e = expert[t, j]
                kept[t, j] = used[e] < capacity
                used[e] += kept[t, j]
    aux = 0.0
    for e in range(E):
        aux += (first[e] / N) * (mean_p[e] / N)
    return expert, gate, kept, E * aux, z / N


@numba.njit(cache=True)
def _dispatch(x, expert, kept, E):
    """(xs, row, bounds): kept assignments grouped by expert in token order; xs[row[t, j]] = x[t];
    expert e owns rows bounds[e]:bounds[e + 1]; a dropped assignment has row = len(xs)."""
    N, k = expert.shape
    bounds = np.zeros(E + 1, dtype=np.int64)
    for t in range(N):
        for j in range(k):
            if kept[t, j]:
                bounds[expert[t, j] + 1] += 1
    for e in range(E):
        bounds[e + 1] += bounds[e]
    cursor = bounds[:-1].copy()
    row = np.full((N, k), bounds[E], dtype=np.int64)
    xs = np.empty((bounds[E], x.shape[1]))
    for t in range(N):
        for j in range(k):
            if kept[t, j]:
                r = cursor[expert[t, j]]
                cursor[expert[t, j]] = r + 1
                row[t, j] = r
                for d in range(x.shape[1]):
                    xs[r, d] = x[t, d]
    return xs, row, bounds


@numba.njit(cache=True)
def _experts(xs, bounds, w1, w2, out):
    """out[r] = relu(xs[r] @ w1[e]) @ w2[e] for each expert e's rows r (BLAS for both GEMMs)."""
    for e in range(w1.shape[0]):
        lo, hi = bounds[e], bounds[e + 1]
        if hi > lo:
            h = np.dot(xs[lo:hi], w1[e])
            for i in range(h.shape[0]):
                for c in range(h.shape[1]):
                    h[i, c] = max(h[i, c], 0.0)
            np.dot(h, w2[e], out[lo:hi])


@numba.njit(cache=True)
def _combine(out, row, gate, y):
    """y[t] = sum over kept j of gate[t, j] * out[row[t, j]]."""
    N, k = row.shape
    for t in range(N):
        for d in range(y.shape[1]):
            y[t, d] = 0.0
        for j in range(k):
            r = row[t, j]
            if r < out.shape[0]:
                for d in range(y.shape[1]):
                    y[t, d] += gate[t, j] * out[r, d]


@numba.njit(cache=True)
def _cross_entropy(logits, targets):
    """mean over rows of logsumexp(row) - row[target]."""
    N, V = logits.shape
    total = 0.0
    for n in range(N):
        m = logits[n, 0]
        for v in range(1, V):
            m = max(m, logits[n, v])
        s = 0.0
        for v in range(V):
            s += math.exp(logits[n, v] - m)
        total += m + math.log(s) - logits[n, targets[n]]
    return total / N


def moe_lm_loss(params, idx, targets, config):
    B, T = idx.shape
    N = B * T
    L = len({name.split(".")[1] for name in params if name.startswith("blocks.")})
    k, cf = config["top_k"], config["capacity_factor"]
    x = np.ascontiguousarray((params["wte"][idx] + params["wpe"][:T]).reshape(N, -1), dtype=np.float64)
    a, y = np.empty_like(x), np.empty_like(x)
    aux_total = z_total = 0.0
    for l in range(L):
        b = f"blocks.{l}."
        _layer_norm(x, params[b + "ln1.g"], params[b + "ln1.b"], a)
        _causal_attention(a @ params[b + "attn.wqkv"], B, T, config["n_head"], y)
        x += y @ params[b + "attn.wo"]
        _layer_norm(x, params[b + "ln2.g"], params[b + "ln2.b"], a)
        if b + "moe.router" in params:
            w1, w2 = np.ascontiguousarray(params[b + "moe.w1"]), np.ascontiguousarray(params[b + "moe.w2"])
            E = w1.shape[0]
            capacity = -1 if cf is None else math.ceil(cf * N * k / E)
            expert, gate, kept, aux, z = _route(a @ params[b + "moe.router"], k, capacity)
            aux_total, z_total = aux_total + aux, z_total + z
            xs, row, bounds = _dispatch(a, expert, kept, E)
            out = np.empty_like(xs)
            _experts(xs, bounds, w1, w2, out)
            _combine(out, row, gate, y)
            x += y
        else:
            x += np.maximum(a @ params[b + "ffn.w1"], 0) @ params[b + "ffn.w2"]
    _layer_norm(x, params["ln_f.g"], params["ln_f.b"], a)
    ce = _cross_entropy(a @ params["head"], np.ascontiguousarray(targets.reshape(-1)))
    return float(ce), float(aux_total), float(z_total)
