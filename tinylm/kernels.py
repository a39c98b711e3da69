"""Numba versions of tinylm's MoE kernels and of its AdamW step: the same functions as the NumPy
ones in model.py and train.py (same arguments, same results up to rounding), compiled.

The dispatch, the per-expert GEMMs and the combine are loops whose GEMMs are BLAS calls on
contiguous row blocks of one buffer (np.dot inside njit, as in problems/grouped-gemm's
reference); relu and its mask are applied to each block while it is in cache; every gather,
scatter and gate product is one pass; the router's softmax, top-k, gates and losses and its
backward are one pass over the tokens (NumPy's row operations on (N, E = 8) arrays crawl along
the short axis). AdamW is one pass over each parameter instead of ~12 NumPy passes with fresh
temporaries.

model.use_numba(True) routes model.py through these; train() does so for runs long enough to
amortise a first compile (~10-30 s; later runs load Numba's on-disk cache in ~1 s).
"""
import math

import numba
import numpy as np


@numba.njit(cache=True)
def top_k(logits, k):
    """model.top_k: the j-th choice is the first strict maximum among the experts not yet taken."""
    T, E = logits.shape
    expert = np.empty((T, k), dtype=np.int64)
    taken = np.zeros(E, dtype=np.bool_)
    for t in range(T):
        taken[:] = False
        for j in range(k):
            best = -1
            for e in range(E):
                if not taken[e] and (best < 0 or logits[t, e] > logits[t, best]):
                    best = e
            taken[best] = True
            expert[t, j] = best
    return expert



@numba.njit(cache=True)
def gates_and_losses(logits, expert, f):
    """probs, lse = softmax64(logits); chosen = probs[t, expert[t]]; gate = chosen (k = 1) or
    chosen / chosen.sum(); aux = E * f . probs.mean(axis=0); z = mean(lse ** 2). One pass."""
    T, E = logits.shape
    k = expert.shape[1]
    probs, lse, gate = np.empty((T, E)), np.empty(T), np.empty((T, k))
    mean_p = np.zeros(E)
    z = 0.0
    for t in range(T):
        m = logits[t].max()
        s = 0.0
        for e in range(E):
            probs[t, e] = math.exp(logits[t, e] - m)
            s += probs[t, e]
        for e in range(E):
            probs[t, e] /= s
            mean_p[e] += probs[t, e]
        lse[t] = m + math.log(s)
        z += lse[t] * lse[t]
        chosen = 0.0
        for j in range(k):
            gate[t, j] = probs[t, expert[t, j]]
            chosen += gate[t, j]
        if k > 1:
            for j in range(k):
                gate[t, j] /= chosen
    aux = E * np.dot(f, mean_p / T) if T else math.nan
    return probs, lse, gate, aux, z / T if T else math.nan



@numba.njit(cache=True)
def dispatch(x, expert, kept, n_expert):
    """(xs, row, bounds): the kept assignments grouped by expert, in token order within an expert
    (moe-dispatch's stable counting sort). xs[row[t, j]] = x[t]; expert e owns rows
    bounds[e]:bounds[e + 1]; a dropped assignment gets row = len(xs), one past the end."""
    N, k = expert.shape
    bounds = np.zeros(n_expert + 1, dtype=np.int64)
    for t in range(N):
        for j in range(k):
            if kept[t, j]:
                bounds[expert[t, j] + 1] += 1
    for e in range(n_expert):
        bounds[e + 1] += bounds[e]
    n = bounds[n_expert]
    cursor = bounds[:-1].copy()
    row = np.full((N, k), n, dtype=np.int64)
    xs = np.empty((n, x.shape[1]), dtype=x.dtype)
    for t in range(N):
        for j in range(k):
            if kept[t, j]:
                e = expert[t, j]
                r = cursor[e]
                row[t, j] = r
                for c in range(x.shape[1]):
                    xs[r, c] = x[t, c]
                cursor[e] = r + 1
    return xs, row, bounds


@numba.njit(cache=True)
def experts_forward(xs, bounds, w1, w2, h, out):
    """For each expert e and its rows r = bounds[e]:bounds[e + 1]:
    h[r] = relu(xs[r] @ w1[e]);  out[r] = h[r] @ w2[e]."""
    zero = h.dtype.type(0)
    for e in range(w1.shape[0]):
        lo, hi = bounds[e], bounds[e + 1]
        if hi > lo:
            he = h[lo:hi]
            np.dot(xs[lo:hi], w1[e], he)
            for i in range(he.shape[0]):
                for c in range(he.shape[1]):
                    he[i, c] = max(he[i, c], zero)
            np.dot(he, w2[e], out[lo:hi])


@numba.njit(cache=True)
def combine(rows, row, weight, y):
    """y[t] = sum_j weight[t, j] * rows[row[t, j]] (weight None: 1; cast to y's dtype first),
    skipping dropped assignments: each token gathers its k rows, so every y row is written once."""
    N, k = row.shape
    for t in range(N):
        y[t] = 0
        for j in range(k):
            r = row[t, j]
            if r < rows.shape[0]:
                g = y.dtype.type(1 if weight is None else weight[t, j])
                for c in range(y.shape[1]):
                    y[t, c] += g * rows[r, c]


@numba.njit(cache=True, fastmath={"reassoc"})  # reassoc: the dot product may vectorise (~2x faster)
def uncombine(dy, row, gate, out, dout, dgate):
    """The backward of combine: dout[row[t, j]] = gate[t, j] * dy[t] and dgate[t, j] =
    dy[t] . out[row[t, j]] (0 for a dropped assignment)."""
    N, k = row.shape
    for t in range(N):
        for j in range(k):
            r = row[t, j]
            s = dy.dtype.type(0)
            if r < out.shape[0]:
                g = dout.dtype.type(gate[t, j])
                for c in range(dy.shape[1]):
                    s += dy[t, c] * out[r, c]
                    dout[r, c] = g * dy[t, c]
            dgate[t, j] = s


@numba.njit(cache=True)
def router_backward(probs, lse, expert, gate, dgate, f, aux_coef, z_coef):
    """d(loss)/d(logits) (N, E), float64, from d/dgate and the two auxiliary losses, row by row:
    k = 1: d/dp_j = dgate_j; k > 1: gate_j = p_j / S (S = sum of the chosen p), so
    d/dp_j = (dgate_j - sum_i dgate_i gate_i) / S; aux = E * sum_i f_i * mean_t p_ti (f fixed)
    adds aux_coef * E * f_i / N to every d/dp_ti; softmax: dlogits = p * (dp - p . dp); and
    z = mean lse^2 adds z_coef * 2 lse_t / N * p_ti (dlse/dlogits = p)."""
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
            S, dot = 0.0, 0.0
            for j in range(k):
                S += probs[t, expert[t, j]]
                dot += dgate[t, j] * gate[t, j]
            for j in range(k):  # a row's k experts are distinct
                dp[expert[t, j]] += (dgate[t, j] - dot) / S
        pdp = 0.0
        for e in range(E):
            pdp += probs[t, e] * dp[e]
        for e in range(E):
            dlogits[t, e] = probs[t, e] * (dp[e] - pdp) + (z_coef * 2.0 / N) * lse[t] * probs[t, e]
    return dlogits


@numba.njit(cache=True)
def experts_backward(xs, h, dout, bounds, w1, w2, dh, dxs, dw1, dw2):
    """The backward of experts_forward, per expert e and its rows r (zeros for an idle expert):
    dw2[e] = h[r].T @ dout[r];  dh[r] = (dout[r] @ w2[e].T) * (h[r] > 0);
    dw1[e] = xs[r].T @ dh[r];   dxs[r] = dh[r] @ w1[e].T."""
    zero = h.dtype.type(0)
    for e in range(w1.shape[0]):
        lo, hi = bounds[e], bounds[e + 1]
        if hi == lo:
            dw1[e] = 0
            dw2[e] = 0
            continue
        he, dhe = h[lo:hi], dh[lo:hi]
        np.dot(he.T, dout[lo:hi], dw2[e])
        np.dot(dout[lo:hi], w2[e].T, dhe)
        for i in range(he.shape[0]):
            for c in range(he.shape[1]):
                if he[i, c] <= zero:
                    dhe[i, c] = zero
        np.dot(xs[lo:hi].T, dhe, dw1[e])
        np.dot(dhe, w1[e].T, dxs[lo:hi])


@numba.njit(cache=True, error_model="numpy")  # numpy error model: no zero-division branch, so it vectorises
def adamw(p, g, m, v, lr, beta1, beta2, c1, c2, eps, decay, scale):
    """train.AdamW's update of one parameter (flat arrays), in the arrays' precision:
    g *= scale; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
    p = p (1 - lr decay) - lr (m / c1) / (sqrt(v / c2) + eps)."""
    one = p.dtype.type(1)
    b1, b2, s, e = p.dtype.type(beta1), p.dtype.type(beta2), p.dtype.type(scale), p.dtype.type(eps)
    step, keep, rc2 = p.dtype.type(lr / c1), p.dtype.type(1 - lr * decay), p.dtype.type(1 / math.sqrt(c2))
    for i in range(p.size):
        gi = g[i] * s
        mi = b1 * m[i] + (one - b1) * gi
        vi = b2 * v[i] + (one - b2) * gi * gi
        m[i], v[i] = mi, vi
        p[i] = p[i] * keep - step * mi / (math.sqrt(vi) * rc2 + e)
