"""moe-lm-grad, Numba reference (the speed yardstick): forward with caches, then backward, float64.

The GEMMs stay NumPy/BLAS calls (the experts' ones BLAS calls from compiled loops over row
blocks). Everything between them is one compiled pass, as in the moe-lm-loss Numba reference:

- causal attention per (sequence, head, query) over keys 0..t only, keeping the probabilities
  (lower triangles) for the backward, which runs the same way: d(values), d(scores) through the
  softmax, d(queries), d(keys), never touching the masked half;
- LayerNorm and its backward row by row (dx, and the gain and bias gradients accumulated);
- softmax-cross-entropy's gradient (softmax minus one-hot, over N) in place on the logits;
- the router (softmax, top-k by logit, gates, capacity, f, aux and z) and its backward token by
  token; the dispatch (counting sort of the kept assignments, rows gathered), combine and its
  backward (gate gradients as row dot products), relu and its mask per expert row block;
- the token-embedding gradient as a scatter-add loop (NumPy's np.add.at is slow).

Self-contained (the sandbox forbids importing tinylm/ or problems/); tests/test_problems.py
grades it against the NumPy oracle.
"""
import math

import numba
import numpy as np


# -- layer norm -------------------------------------------------------------------------------
@numba.njit(cache=True)
def _ln_forward(x, g, b, out, xhat, rstd):
    N, D = x.shape
    for n in range(N):
        mu = 0.0
        for d in range(D):
            mu += x[n, d]
        mu /= D
        var = 0.0
        for d in range(D):
            var += (x[n, d] - mu) ** 2
        r = 1.0 / math.sqrt(var / D + 1e-5)
        rstd[n] = r
        for d in range(D):
            xhat[n, d] = (x[n, d] - mu) * r
            out[n, d] = xhat[n, d] * g[d] + b[d]


@numba.njit(cache=True)
def _ln_backward(dy, xhat, rstd, g, dx, dg, db):
    """dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), dxhat = dy * g; ADDS dx
    into `dx` (the residual stream's gradient) and writes dg, db."""
    N, D = dy.shape
    dg[:] = 0.0
    db[:] = 0.0
    for n in range(N):
        m1 = 0.0
        m2 = 0.0
        for d in range(D):
            dxh = dy[n, d] * g[d]
            m1 += dxh
            m2 += dxh * xhat[n, d]
            dg[d] += dy[n, d] * xhat[n, d]
            db[d] += dy[n, d]
        m1 /= D
        m2 /= D
        for d in range(D):
            dx[n, d] += rstd[n] * (dy[n, d] * g[d] - m1 - xhat[n, d] * m2)


# -- causal self-attention --------------------------------------------------------------------
@numba.njit(cache=True, fastmath={"reassoc"})  # reassoc: the dot products over a head vectorise
def _attn_forward(qkv, B, T, n_head, y, P):
    """y[b*T + t, head h] = sum_{j <= t} P[b, h, t, j] v_j, P = softmax_j(q_t . k_j / sqrt(hd));
    P's upper triangle is left unset (never read)."""
    D = y.shape[1]
    hd = D // n_head
    scale = 1.0 / math.sqrt(hd)
    acc = np.empty(hd)
    for b in range(B):
        for h in range(n_head):
            q0, k0, v0 = h * hd, D + h * hd, 2 * D + h * hd
            for t in range(T):
                q = qkv[b * T + t, q0:q0 + hd]
                p = P[b, h, t]
                m = -np.inf
                for j in range(t + 1):
                    kj = qkv[b * T + j, k0:k0 + hd]
                    dot = 0.0
                    for c in range(hd):
                        dot += q[c] * kj[c]
                    p[j] = dot * scale
                    m = max(m, p[j])
                total = 0.0
                for j in range(t + 1):
                    p[j] = math.exp(p[j] - m)
                    total += p[j]
                acc[:] = 0.0
                for j in range(t + 1):
                    p[j] /= total
                    vj = qkv[b * T + j, v0:v0 + hd]
                    for c in range(hd):
                        acc[c] += p[j] * vj[c]
                for c in range(hd):
                    y[b * T + t, h * hd + c] = acc[c]


@numba.njit(cache=True, fastmath={"reassoc"})
def _attn_backward(qkv, P, dy, B, T, n_head, dqkv):
    """dqkv (N, 3D) from dy = d(concatenated heads): dv_j = sum_t P_tj dy_t; dP_tj = dy_t . v_j;
    dscore_tj = P_tj (dP_tj - sum_j' P_tj' dP_tj') / sqrt(hd); dq_t = sum_j dscore_tj k_j;
    dk_j = sum_t dscore_tj q_t (t >= j throughout)."""
    D = dy.shape[1]
    hd = D // n_head
    scale = 1.0 / math.sqrt(hd)
    ds = np.empty(T)
    dq = np.empty(hd)
    dqkv[:] = 0.0
    for b in range(B):
        for h in range(n_head):
            q0, k0, v0 = h * hd, D + h * hd, 2 * D + h * hd
            for t in range(T):
                dyt = dy[b * T + t, h * hd:(h + 1) * hd]
                p = P[b, h, t]
                weighted = 0.0
                for j in range(t + 1):
                    vj = qkv[b * T + j, v0:v0 + hd]
                    dvj = dqkv[b * T + j, v0:v0 + hd]
                    dot = 0.0
                    for c in range(hd):
                        dot += dyt[c] * vj[c]
                        dvj[c] += p[j] * dyt[c]
                    ds[j] = dot
                    weighted += p[j] * dot
                q = qkv[b * T + t, q0:q0 + hd]
                dq[:] = 0.0
                for j in range(t + 1):
                    g = p[j] * (ds[j] - weighted) * scale
                    kj = qkv[b * T + j, k0:k0 + hd]
                    dkj = dqkv[b * T + j, k0:k0 + hd]
                    for c in range(hd):
                        dq[c] += g * kj[c]
                        dkj[c] += g * q[c]
                for c in range(hd):
                    dqkv[b * T + t, q0 + c] = dq[c]


# -- mixture of experts -----------------------------------------------------------------------
@numba.njit(cache=True)
def _route(logits, k, capacity):
    """(expert, gate, kept, probs, lse, f, aux, z): softmax, top-k by logit (equal logits to the
    lower index), gates (k = 1 raw, else renormalised), capacity in priority order (< 0: none),
    f = fraction of 1st choices per expert (before dropping)."""
    N, E = logits.shape
    expert = np.empty((N, k), dtype=np.int64)
    gate = np.empty((N, k))
    kept = np.ones((N, k), dtype=np.bool_)
    probs = np.empty((N, E))
    lse = np.empty(N)
    mean_p = np.zeros(E)
    f = np.zeros(E)
    taken = np.zeros(E, dtype=np.bool_)
    z = 0.0
    for t in range(N):
        m = logits[t, 0]
        for e in range(1, E):
            m = max(m, logits[t, e])
        s = 0.0
        for e in range(E):
            probs[t, e] = math.exp(logits[t, e] - m)
            s += probs[t, e]
        for e in range(E):
            probs[t, e] /= s
            mean_p[e] += probs[t, e]
        lse[t] = m + math.log(s)
        z += lse[t] * lse[t]
        taken[:] = False
        chosen = 0.0
        for j in range(k):  # the j-th: the first strict maximum of the logits not yet taken
            best = -1
            for e in range(E):
                if not taken[e] and (best < 0 or logits[t, e] > logits[t, best]):
                    best = e
            taken[best] = True
            expert[t, j] = best
            gate[t, j] = probs[t, best]
            chosen += probs[t, best]
        if k > 1:
            for j in range(k):
                gate[t, j] /= chosen
        f[expert[t, 0]] += 1.0
    if capacity >= 0:
        used = np.zeros(E, dtype=np.int64)
        for j in range(k):  # all 1st choices in token order, then all 2nd choices, ...
            for t in range(N):
                e = expert[t, j]
                kept[t, j] = used[e] < capacity
                used[e] += kept[t, j]
    aux = 0.0
    for e in range(E):
        f[e] /= N
        aux += f[e] * mean_p[e] / N
    return expert, gate, kept, probs, lse, f, E * aux, z / N


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
def _experts_forward(xs, bounds, w1, w2, h, out):
    """h[r] = relu(xs[r] @ w1[e]), out[r] = h[r] @ w2[e] for each expert e's rows r."""
    for e in range(w1.shape[0]):
        lo, hi = bounds[e], bounds[e + 1]
        if hi > lo:
            he = h[lo:hi]
            np.dot(xs[lo:hi], w1[e], he)
            for i in range(he.shape[0]):
                for c in range(he.shape[1]):
                    he[i, c] = max(he[i, c], 0.0)
            np.dot(he, w2[e], out[lo:hi])


@numba.njit(cache=True)
def _experts_backward(xs, h, dout, bounds, w1, w2, dh, dxs, dw1, dw2):
    """dw2[e] = h[r].T @ dout[r]; dh[r] = (dout[r] @ w2[e].T) * (h[r] > 0); dw1[e] = xs[r].T @ dh[r];
    dxs[r] = dh[r] @ w1[e].T (zeros for an expert with no rows)."""
    for e in range(w1.shape[0]):
        lo, hi = bounds[e], bounds[e + 1]
        if hi == lo:
            dw1[e] = 0.0
            dw2[e] = 0.0
            continue
        he, dhe = h[lo:hi], dh[lo:hi]
        np.dot(he.T, dout[lo:hi], dw2[e])
        np.dot(dout[lo:hi], w2[e].T, dhe)
        for i in range(he.shape[0]):
            for c in range(he.shape[1]):
                if he[i, c] <= 0.0:
                    dhe[i, c] = 0.0
        np.dot(xs[lo:hi].T, dhe, dw1[e])
        np.dot(dhe, w1[e].T, dxs[lo:hi])


@numba.njit(cache=True)
def _combine(rows, row, gate, y):
    """y[t] = sum over kept j of gate[t, j] * rows[row[t, j]] (gate None: 1)."""
    N, k = row.shape
    for t in range(N):
        for d in range(y.shape[1]):
            y[t, d] = 0.0
        for j in range(k):
            r = row[t, j]
            if r < rows.shape[0]:
                g = 1.0 if gate is None else gate[t, j]
                for d in range(y.shape[1]):
                    y[t, d] += g * rows[r, d]


@numba.njit(cache=True, fastmath={"reassoc"})
def _uncombine(dy, row, gate, out, dout, dgate):
    """dout[row[t, j]] = gate[t, j] * dy[t]; dgate[t, j] = dy[t] . out[row[t, j]] (0 if dropped)."""
    N, k = row.shape
    for t in range(N):
        for j in range(k):
            r = row[t, j]
            s = 0.0
            if r < out.shape[0]:
                for d in range(dy.shape[1]):
                    s += dy[t, d] * out[r, d]
                    dout[r, d] = gate[t, j] * dy[t, d]
            dgate[t, j] = s


@numba.njit(cache=True)
def _router_backward(probs, lse, expert, gate, dgate, f, aux_coef, z_coef):
    """d(loss)/d(logits): gates (k = 1: raw p; k > 1: p / S over the chosen), aux = E f . mean p
    (f fixed), z = mean lse^2, back through the softmax, token by token."""
    N, E = probs.shape
    k = expert.shape[1]
    dlogits = np.empty((N, E))
    dp = np.empty(E)
    for t in range(N):
        for e in range(E):
            dp[e] = aux_coef * E * f[e] / N
        if k == 1:
            dp[expert[t, 0]] += dgate[t, 0]
        else:
            S = 0.0
            dot = 0.0
            for j in range(k):
                S += probs[t, expert[t, j]]
                dot += dgate[t, j] * gate[t, j]
            for j in range(k):
                dp[expert[t, j]] += (dgate[t, j] - dot) / S
        pdp = 0.0
        for e in range(E):
            pdp += probs[t, e] * dp[e]
        for e in range(E):
            dlogits[t, e] = probs[t, e] * (dp[e] - pdp) + z_coef * 2.0 * lse[t] * probs[t, e] / N
    return dlogits


# -- loss, embeddings -------------------------------------------------------------------------
@numba.njit(cache=True)
def _softmax_ce_backward(logits, targets):
    """In place: logits -> (softmax(logits) - onehot(target)) / N, row by row."""
    N, V = logits.shape
    for n in range(N):
        m = logits[n, 0]
        for v in range(1, V):
            m = max(m, logits[n, v])
        s = 0.0
        for v in range(V):
            logits[n, v] = math.exp(logits[n, v] - m)
            s += logits[n, v]
        for v in range(V):
            logits[n, v] /= s * N
        logits[n, targets[n]] -= 1.0 / N


@numba.njit(cache=True)
def _embedding_backward(idx, dx, V):
    out = np.zeros((V, dx.shape[1]))
    for n in range(idx.size):
        for d in range(dx.shape[1]):
            out[idx[n], d] += dx[n, d]
    return out


# -- the model --------------------------------------------------------------------------------
def moe_lm_grad(params, idx, targets, config):
    B, T = idx.shape
    N = B * T
    L = len({name.split(".")[1] for name in params if name.startswith("blocks.")})
    nh, k, cf = config["n_head"], config["top_k"], config["capacity_factor"]
    p = {name: np.ascontiguousarray(v, dtype=np.float64) for name, v in params.items()}
    D = p["wte"].shape[1]
    flat_idx = np.ascontiguousarray(idx.reshape(-1), dtype=np.int64)
    x = p["wte"][flat_idx] + np.tile(p["wpe"][:T], (B, 1))  # (N, D), row n = b*T + t
    caches = []
    for l in range(L):
        b = f"blocks.{l}."
        a1, xhat1, rstd1 = np.empty_like(x), np.empty_like(x), np.empty(N)
        _ln_forward(x, p[b + "ln1.g"], p[b + "ln1.b"], a1, xhat1, rstd1)
        qkv = a1 @ p[b + "attn.wqkv"]
        y_att, P = np.empty_like(x), np.empty((B, nh, T, T))
        _attn_forward(qkv, B, T, nh, y_att, P)
        x = x + y_att @ p[b + "attn.wo"]
        a2, xhat2, rstd2 = np.empty_like(x), np.empty_like(x), np.empty(N)
        _ln_forward(x, p[b + "ln2.g"], p[b + "ln2.b"], a2, xhat2, rstd2)
        if b + "moe.router" in p:
            w1, w2 = p[b + "moe.w1"], p[b + "moe.w2"]
            E = w1.shape[0]
            capacity = -1 if cf is None else math.ceil(cf * N * k / E)
            expert, gate, kept, probs, lse, f, _, _ = _route(a2 @ p[b + "moe.router"], k, capacity)
            xs, row, bounds = _dispatch(a2, expert, kept, E)
            h, out = np.empty((xs.shape[0], w1.shape[2])), np.empty_like(xs)
            _experts_forward(xs, bounds, w1, w2, h, out)
            y = np.empty_like(x)
            _combine(out, row, gate, y)
            ffn = ("moe", expert, gate, probs, lse, f, xs, row, bounds, h, out)
        else:
            h = np.maximum(a2 @ p[b + "ffn.w1"], 0)
            y = h @ p[b + "ffn.w2"]
            ffn = ("dense", h)
        x = x + y
        caches.append((a1, xhat1, rstd1, qkv, y_att, P, a2, xhat2, rstd2, ffn))
    xf, xhatf, rstdf = np.empty_like(x), np.empty_like(x), np.empty(N)
    _ln_forward(x, p["ln_f.g"], p["ln_f.b"], xf, xhatf, rstdf)
    dlogits = xf @ p["head"]
    _softmax_ce_backward(dlogits, np.ascontiguousarray(targets.reshape(-1), dtype=np.int64))

    g = {"head": xf.T @ dlogits}
    dx = np.zeros_like(x)
    g["ln_f.g"], g["ln_f.b"] = np.empty(D), np.empty(D)
    _ln_backward(dlogits @ p["head"].T, xhatf, rstdf, p["ln_f.g"], dx, g["ln_f.g"], g["ln_f.b"])
    for l in reversed(range(L)):
        b = f"blocks.{l}."
        a1, xhat1, rstd1, qkv, y_att, P, a2, xhat2, rstd2, ffn = caches[l]
        if ffn[0] == "moe":
            _, expert, gate, probs, lse, f, xs, row, bounds, h, out = ffn
            w1, w2 = p[b + "moe.w1"], p[b + "moe.w2"]
            dout, dgate = np.empty_like(out), np.empty(expert.shape)
            _uncombine(dx, row, gate, out, dout, dgate)
            dh, dxs = np.empty_like(h), np.empty_like(xs)
            g[b + "moe.w1"], g[b + "moe.w2"] = np.empty_like(w1), np.empty_like(w2)
            _experts_backward(xs, h, dout, bounds, w1, w2, dh, dxs, g[b + "moe.w1"], g[b + "moe.w2"])
            dm = np.empty_like(x)
            _combine(dxs, row, None, dm)
            dl = _router_backward(probs, lse, expert, gate, dgate, f, config["aux_coef"], config["z_coef"])
            dm += dl @ p[b + "moe.router"].T
            g[b + "moe.router"] = a2.T @ dl
        else:
            h = ffn[1]
            g[b + "ffn.w2"] = h.T @ dx
            dpre = (dx @ p[b + "ffn.w2"].T) * (h > 0)
            g[b + "ffn.w1"] = a2.T @ dpre
            dm = dpre @ p[b + "ffn.w1"].T
        g[b + "ln2.g"], g[b + "ln2.b"] = np.empty(D), np.empty(D)
        _ln_backward(dm, xhat2, rstd2, p[b + "ln2.g"], dx, g[b + "ln2.g"], g[b + "ln2.b"])
        g[b + "attn.wo"] = y_att.T @ dx
        dqkv = np.empty_like(qkv)
        _attn_backward(qkv, P, dx @ p[b + "attn.wo"].T, B, T, nh, dqkv)
        g[b + "attn.wqkv"] = a1.T @ dqkv
        g[b + "ln1.g"], g[b + "ln1.b"] = np.empty(D), np.empty(D)
        _ln_backward(dqkv @ p[b + "attn.wqkv"].T, xhat1, rstd1, p[b + "ln1.g"], dx, g[b + "ln1.g"], g[b + "ln1.b"])
    g["wpe"] = np.zeros_like(p["wpe"])
    g["wpe"][:T] = dx.reshape(B, T, D).sum(axis=0)
    g["wte"] = _embedding_backward(flat_idx, dx, p["wte"].shape[0])
    return {name: g[name] for name in params}
