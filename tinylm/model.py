"""A tiny sparse Mixture-of-Experts language model: NumPy forward and hand-written backward.

This is the seed note's Q6 done right. A decoder-only, character-level transformer:

    x = wte[idx] + wpe[:T]
    for each block:  x = x + attn(ln1(x));  x = x + moe(ln2(x))      (pre-norm, causal)
    logits = ln_f(x) @ head

The feed-forward of every block is a Mixture of Experts: a router scores the E experts for
each token, the token goes to its top-k experts only, and the output is the gate-weighted sum
of those experts' outputs. Parameters grow with E; compute per token stays that of k experts.
With `dense=True` the same code has one plain FFN whose parameter count equals the MoE's
*active* parameters per token (the baseline at equal compute).

Parameters live in a flat dict, name -> array (this is the layout the moe-lm-loss and
moe-lm-grad problems use; D = n_embd, V = vocab, L = n_layer, E = experts, H = expert hidden):

    wte             (V, D)      token embedding
    wpe             (T_max, D)  position embedding (T_max = block_size)
    blocks.{l}.ln1.g, .ln1.b      (D,)   LayerNorm before attention (gain, bias)
    blocks.{l}.attn.wqkv          (D, 3D) query | key | value projections, heads split along D
    blocks.{l}.attn.wo            (D, D)  output projection
    blocks.{l}.ln2.g, .ln2.b      (D,)   LayerNorm before the feed-forward
    blocks.{l}.moe.router         (D, E)  router (MoE blocks)
    blocks.{l}.moe.w1             (E, D, H)   expert e: relu(x @ w1[e]) @ w2[e]
    blocks.{l}.moe.w2             (E, H, D)
    blocks.{l}.ffn.w1             (D, Hd) dense blocks instead: relu(x @ w1) @ w2
    blocks.{l}.ffn.w2             (Hd, D)
    ln_f.g, ln_f.b  (D,)        final LayerNorm
    head            (D, V)      unembedding (not tied to wte)

No linear layer has a bias. Every (B, T) batch is routed as one group of N = B*T tokens in
row-major order (that order sets capacity priority). The training objective is

    loss = mean cross-entropy + aux_coef * sum_l aux_l + z_coef * sum_l z_l

with the routing decisions (chosen experts, kept mask) held fixed in the backward pass, as in
every real implementation: they are piecewise constant, so their derivative is zero almost
everywhere. The gates and both auxiliary losses are differentiable and are differentiated.

Training runs in float32; everything works in float64 too (the gradient check uses it).
Router probabilities are always computed in float64 (cheap: N x E).

The model is NumPy. The MoE's routing, dispatch, per-expert GEMMs and combine ("the MoE's
kernels" below) also exist compiled by Numba (tinylm/kernels.py, switched on by use_numba, as
train() does for runs that can amortise a compile): in NumPy their extra passes and Python-level
calls cost the MoE step ~20% of dense throughput at equal active parameters, the comparison this
model exists to make.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from harness.types import Routing

LN_EPS = 1e-5


# -- configuration ------------------------------------------------------------------------
@dataclass(frozen=True)
class Config:
    """Shape of the model and the weights of its auxiliary losses."""

    vocab_size: int
    block_size: int = 64  # context length (T_max)
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    n_expert: int = 8
    top_k: int = 2
    expert_hidden: int = 256  # H, hidden width of one expert
    capacity_factor: float | None = None  # None: no capacity limit (dropless)
    aux_coef: float = 0.01
    z_coef: float = 0.001
    dense: bool = False  # the baseline: one FFN of `dense_hidden` units per block

    def __post_init__(self) -> None:
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd={self.n_embd} must be a multiple of n_head={self.n_head}")
        if not 1 <= self.top_k <= self.n_expert:
            raise ValueError(f"top_k={self.top_k} must lie in 1..n_expert={self.n_expert}")

    @property
    def dense_hidden(self) -> int:
        """Hidden width of the dense baseline's FFN: its 2*D*Hd parameters equal the MoE's active
        parameters per token, k experts (k * 2*D*H) plus the router (D*E), exactly for even E."""
        return self.top_k * self.expert_hidden + self.n_expert // 2

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    @classmethod
    def from_json(cls, text: str) -> Config:
        return cls(**json.loads(text))


def param_counts(cfg: Config) -> dict[str, int]:
    """Total parameters and active parameters per token (what one token's forward touches)."""
    D, V, L = cfg.n_embd, cfg.vocab_size, cfg.n_layer
    shared = V * D + cfg.block_size * D + 2 * D + D * V + L * (4 * D + 4 * D * D)
    if cfg.dense:
        ffn = 2 * D * cfg.dense_hidden
        return {"total": shared + L * ffn, "active": shared + L * ffn}
    expert = 2 * D * cfg.expert_hidden
    total = shared + L * (D * cfg.n_expert + cfg.n_expert * expert)
    active = shared + L * (D * cfg.n_expert + cfg.top_k * expert)
    return {"total": total, "active": active}


def init_params(cfg: Config, rng: np.random.Generator, dtype=np.float32) -> dict[str, np.ndarray]:
    """GPT-2 style: N(0, 0.02) weights, residual projections scaled by 1/sqrt(2L), LN = identity."""
    D, V, std = cfg.n_embd, cfg.vocab_size, 0.02
    resid = std / math.sqrt(2 * cfg.n_layer)

    def normal(shape, s=std):
        return (rng.standard_normal(shape) * s).astype(dtype)

    p = {"wte": normal((V, D)), "wpe": normal((cfg.block_size, D))}
    for l in range(cfg.n_layer):
        b = f"blocks.{l}."
        p[b + "ln1.g"], p[b + "ln1.b"] = np.ones(D, dtype), np.zeros(D, dtype)
        p[b + "attn.wqkv"] = normal((D, 3 * D))
        p[b + "attn.wo"] = normal((D, D), resid)
        p[b + "ln2.g"], p[b + "ln2.b"] = np.ones(D, dtype), np.zeros(D, dtype)
        if cfg.dense:
            p[b + "ffn.w1"] = normal((D, cfg.dense_hidden))
            p[b + "ffn.w2"] = normal((cfg.dense_hidden, D), resid)
        else:
            E, H = cfg.n_expert, cfg.expert_hidden
            p[b + "moe.router"] = normal((D, E))
            p[b + "moe.w1"] = normal((E, D, H))
            p[b + "moe.w2"] = normal((E, H, D), resid)
    p["ln_f.g"], p["ln_f.b"] = np.ones(D, dtype), np.zeros(D, dtype)
    p["head"] = normal((D, V))
    return p


# -- routing (the moe-router contract: harness.types.Routing) -----------------------------
def softmax64(logits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row softmax and logsumexp in float64, max-subtracted so +-1e4 logits do not overflow."""
    z = np.asarray(logits, dtype=np.float64)
    m = z.max(axis=1, keepdims=True)
    e = np.exp(z - m)
    s = e.sum(axis=1, keepdims=True)
    return e / s, (m + np.log(s))[:, 0]


def top_k(logits: np.ndarray, k: int) -> np.ndarray:
    """(T, k) expert ids by descending logit, equal logits to the lower expert index (the
    moe-router rule; the same as np.argsort(-logits, axis=1, kind="stable")[:, :k]). Softmax is
    strictly increasing, so this is the order of the exact probabilities; the computed ones can
    round to equal values (underflow to 0.0) that are not ties."""
    if _kernels:
        return _kernels.top_k(np.ascontiguousarray(logits), k)
    return np.argsort(-np.asarray(logits), axis=1, kind="stable")[:, :k]


def capacity_mask(expert: np.ndarray, n_expert: int, capacity_factor: float | None) -> np.ndarray:
    """kept[t, j]: assignment (t, j) got a slot. Slots fill in priority order: every token's
    1st choice in token order, then every 2nd choice, ...; C = ceil(cf * T * k / E) per expert."""
    T, k = expert.shape
    if capacity_factor is None:
        return np.ones((T, k), dtype=bool)
    capacity = math.ceil(capacity_factor * T * k / n_expert)
    flat = expert.T.reshape(-1)  # priority order: choice-major, then token
    onehot = np.zeros((flat.size, n_expert), dtype=np.int64)
    onehot[np.arange(flat.size), flat] = 1
    slot = np.cumsum(onehot, axis=0)[np.arange(flat.size), flat] - 1  # 0-based position in the queue
    return (slot < capacity).reshape(k, T).T


def gates_and_losses(logits: np.ndarray, expert: np.ndarray, first_choice_frac: np.ndarray | None = None):
    """Gates and the two auxiliary losses for given routing decisions.

    k = 1: the raw probability (Switch); renormalising a single gate would make it 1.0 and
    cut the router's gradient from the task loss. k > 1: the top-k probabilities renormalised.
    `first_choice_frac` (f) defaults to the fraction of tokens whose 1st choice is each expert.
    Returns (probs, lse, gate, f, aux_loss, z_loss).
    """
    T, k = expert.shape
    E = logits.shape[1]
    f = np.bincount(expert[:, 0], minlength=E) / T if first_choice_frac is None else first_choice_frac
    if _kernels:
        probs, lse, gate, aux, z = _kernels.gates_and_losses(np.ascontiguousarray(logits, dtype=np.float64),
                                                             np.ascontiguousarray(expert, dtype=np.int64),
                                                             np.asarray(f, dtype=np.float64))
        return probs, lse, gate, f, aux, z
    probs, lse = softmax64(logits)
    chosen = np.take_along_axis(probs, expert, axis=1)
    gate = chosen if k == 1 else chosen / chosen.sum(axis=1, keepdims=True)
    aux = float(E * np.dot(f, probs.mean(axis=0)))
    z = float(np.mean(lse**2))
    return probs, lse, gate, f, aux, z


def route(logits: np.ndarray, k: int, capacity_factor: float | None) -> Routing:
    """The moe-router contract: softmax over experts, top-k, gates, capacity, aux and z losses."""
    expert = top_k(logits, k)
    kept = capacity_mask(expert, logits.shape[1], capacity_factor)
    _, _, gate, _, aux, z = gates_and_losses(logits, expert)
    return Routing(expert, gate, kept, aux, z)


# -- layers: forward returns (output, cache), backward takes (d_output, cache) --------------
def layer_norm(x, g, b):
    mu = x.mean(axis=-1, keepdims=True)
    xc = x - mu
    rstd = 1.0 / np.sqrt((xc * xc).mean(axis=-1, keepdims=True) + LN_EPS)
    xhat = xc * rstd
    return xhat * g + b, (xhat, rstd, g)


def layer_norm_backward(dy, cache):
    xhat, rstd, g = cache
    axes = tuple(range(dy.ndim - 1))
    dg, db = (dy * xhat).sum(axis=axes), dy.sum(axis=axes)
    dxhat = dy * g
    dx = rstd * (dxhat - dxhat.mean(axis=-1, keepdims=True) - xhat * (dxhat * xhat).mean(axis=-1, keepdims=True))
    return dx, dg, db


def attention(x, wqkv, wo, n_head):
    """Multi-head causal self-attention on x (B, T, D)."""
    B, T, D = x.shape
    hd = D // n_head
    qkv = (x @ wqkv).reshape(B, T, 3, n_head, hd).transpose(2, 0, 3, 1, 4)  # (3, B, h, T, hd)
    q, k, v = qkv[0], qkv[1], qkv[2]
    att = (q @ k.transpose(0, 1, 3, 2)) * (1.0 / math.sqrt(hd))  # (B, h, T, T)
    att = att + _causal_mask(T, att.dtype)
    att = np.exp(att - att.max(axis=-1, keepdims=True))
    att /= att.sum(axis=-1, keepdims=True)
    y = (att @ v).transpose(0, 2, 1, 3).reshape(B, T, D)
    return y @ wo, (x, q, k, v, att, y)


def attention_backward(dout, cache, wqkv, wo, n_head):
    x, q, k, v, att, y = cache
    B, T, D = x.shape
    hd = D // n_head
    dwo = y.reshape(-1, D).T @ dout.reshape(-1, D)
    dy = (dout @ wo.T).reshape(B, T, n_head, hd).transpose(0, 2, 1, 3)  # (B, h, T, hd)
    datt = dy @ v.transpose(0, 1, 3, 2)
    dv = att.transpose(0, 1, 3, 2) @ dy
    dscore = att * (datt - (datt * att).sum(axis=-1, keepdims=True)) * (1.0 / math.sqrt(hd))
    dq, dk = dscore @ k, dscore.transpose(0, 1, 3, 2) @ q
    dqkv = np.stack([dq, dk, dv]).transpose(1, 3, 0, 2, 4).reshape(B, T, 3 * D)
    dwqkv = x.reshape(-1, D).T @ dqkv.reshape(-1, 3 * D)
    return dqkv @ wqkv.T, dwqkv, dwo


_MASKS: dict = {}


def _causal_mask(T, dtype):
    key = (T, np.dtype(dtype).str)
    if key not in _MASKS:
        _MASKS[key] = np.triu(np.full((T, T), -np.inf, dtype=dtype), k=1)
    return _MASKS[key]


def dense_ffn(x, w1, w2):
    h = x @ w1
    np.maximum(h, 0, out=h)  # relu
    return h @ w2, (x, h)


def dense_ffn_backward(dy, cache, w1, w2):
    x, h = cache
    dw2 = h.T @ dy
    dpre = dy @ w2.T
    dpre *= h > 0  # relu
    return dpre @ w1.T, x.T @ dpre, dw2


class Fixed(NamedTuple):
    """Routing decisions to reuse instead of recomputing (the gradient check holds them fixed)."""

    expert: np.ndarray
    kept: np.ndarray
    first_choice_frac: np.ndarray


def moe(x, w_router, w1, w2, k, capacity_factor, fixed: Fixed | None = None):
    """Top-k MoE feed-forward on x (N, D): route, dispatch the kept assignments into one buffer
    grouped by expert, one GEMM pair per expert on its rows, combine gate * output back.
    Returns (y, stats, cache)."""
    N, D = x.shape
    E, _, H = w1.shape
    logits = x @ w_router
    if fixed is None:  # the decisions of `route` (the moe-router contract): top_k, then capacity_mask
        expert = top_k(logits, k)
        kept = capacity_mask(expert, E, capacity_factor)
        probs, lse, gate, f, aux, z = gates_and_losses(logits, expert)
    else:
        expert, kept = fixed.expert, fixed.kept
        probs, lse, gate, f, aux, z = gates_and_losses(logits, expert, fixed.first_choice_frac)
    xs, row, bounds = dispatch(x, expert, kept, E)  # xs: the token rows, grouped by expert
    h = np.empty((xs.shape[0], H), x.dtype)
    out = np.empty_like(xs)
    experts_forward(xs, bounds, w1, w2, h, out)  # out = relu(xs @ w1[e]) @ w2[e], row block by row block
    y = np.empty_like(x)
    combine(out, row, gate, y)  # y[t] = sum_j gate[t, j] * out[row[t, j]]
    load = np.bincount(expert.reshape(-1), minlength=E) / expert.size
    stats = {"aux": aux, "z": z, "load": load, "dropped": float(1.0 - kept.mean()),
             "expert": expert, "kept": kept, "f": f}
    cache = (x, expert, probs, lse, gate, f, row, bounds, xs, h, out)
    return y, stats, cache


def moe_backward(dy, cache, w_router, w1, w2, aux_coef, z_coef):
    """Gradients of sum(y * dy) + aux_coef * aux + z_coef * z with routing held fixed."""
    x, expert, probs, lse, gate, f, row, bounds, xs, h, out = cache
    N, k = expert.shape
    dout, dgate = np.empty_like(out), np.empty((N, k))
    uncombine(dy, row, gate, out, dout, dgate)  # dout[row[t, j]] = gate[t, j] dy[t]; dgate = dy[t] . out[row]
    dh, dxs = np.empty_like(h), np.empty_like(xs)
    dw1, dw2 = np.empty_like(w1), np.empty_like(w2)
    experts_backward(xs, h, dout, bounds, w1, w2, dh, dxs, dw1, dw2)
    dx = np.empty_like(x)
    combine(dxs, row, None, dx)  # each token sums its k rows' gradients
    dlogits = router_backward(probs, lse, expert, gate, dgate, f, aux_coef, z_coef)
    dlogits = dlogits.astype(x.dtype)
    dx += dlogits @ w_router.T
    return dx, x.T @ dlogits, dw1, dw2


# -- the MoE's kernels --------------------------------------------------------------------------
# moe() and moe_backward() in six steps. Each is written here in NumPy; tinylm/kernels.py has the
# same functions compiled by Numba (use_numba), which is what makes the MoE step as fast as the
# dense one: in NumPy these cost it ~20% of dense throughput at equal active parameters (a dozen
# extra passes over (N*k, D) arrays, ~200 Python-level GEMM calls a step, row operations on
# (N, E) router arrays).

def dispatch(x, expert, kept, n_expert):
    """(xs, row, bounds): the kept assignments grouped by expert, in token order within an expert
    (moe-dispatch's stable sort). xs[row[t, j]] = x[t]; expert e owns rows bounds[e]:bounds[e + 1];
    a dropped assignment gets row = len(xs), one past the end."""
    if _kernels:
        return _kernels.dispatch(x, expert, kept, n_expert)
    N, k = expert.shape
    flat = np.where(kept, expert, n_expert).reshape(-1)  # a dropped assignment sorts after every expert
    order = np.argsort(flat, kind="stable")
    bounds = np.zeros(n_expert + 1, dtype=np.int64)
    np.cumsum(np.bincount(flat, minlength=n_expert + 1)[:n_expert], out=bounds[1:])
    slot = order[:bounds[-1]]  # flat assignment t * k + j of each row
    row = np.full(N * k, slot.size, dtype=np.int64)
    row[slot] = np.arange(slot.size)
    return x[slot // k], row.reshape(N, k), bounds


def experts_forward(xs, bounds, w1, w2, h, out):
    """For each expert e and its rows r = bounds[e]:bounds[e + 1]: h[r] = relu(xs[r] @ w1[e]) and
    out[r] = h[r] @ w2[e]: one GEMM pair per expert on row blocks of one buffer (problems/grouped-gemm)."""
    if _kernels:
        return _kernels.experts_forward(xs, bounds, w1, w2, h, out)
    for e in range(w1.shape[0]):
        np.matmul(xs[bounds[e]:bounds[e + 1]], w1[e], out=h[bounds[e]:bounds[e + 1]])
    np.maximum(h, 0, out=h)
    for e in range(w1.shape[0]):
        np.matmul(h[bounds[e]:bounds[e + 1]], w2[e], out=out[bounds[e]:bounds[e + 1]])


def combine(rows, row, weight, y):
    """y[t] = sum_j weight[t, j] * rows[row[t, j]] (weight None: 1; cast to y's dtype first),
    skipping dropped assignments: each token gathers its k rows, so every y row is written once
    (a gather, not a scatter-add)."""
    if _kernels:
        return _kernels.combine(rows, row, weight, y)
    y[:] = 0
    for j in range(row.shape[1]):
        live = row[:, j] < rows.shape[0]
        part = rows[row[live, j]]
        if weight is not None:
            part *= weight[live, j, None].astype(y.dtype)
        y[live] += part


def uncombine(dy, row, gate, out, dout, dgate):
    """The backward of combine: dout[row[t, j]] = gate[t, j] * dy[t] (the gradient of the expert
    output rows) and dgate[t, j] = dy[t] . out[row[t, j]] (0 for a dropped assignment)."""
    if _kernels:
        return _kernels.uncombine(dy, row, gate, out, dout, dgate)
    t, j = np.nonzero(row < out.shape[0])
    r = row[t, j]
    dgate[:] = 0
    dgate[t, j] = np.einsum("nd,nd->n", dy[t], out[r])
    dout[r] = gate[t, j, None].astype(dout.dtype) * dy[t]


def experts_backward(xs, h, dout, bounds, w1, w2, dh, dxs, dw1, dw2):
    """The backward of experts_forward, per expert e and its rows r (zeros for an idle expert):
    dw2[e] = h[r].T @ dout[r];  dh[r] = (dout[r] @ w2[e].T) * (h[r] > 0);
    dw1[e] = xs[r].T @ dh[r];   dxs[r] = dh[r] @ w1[e].T."""
    if _kernels:
        return _kernels.experts_backward(xs, h, dout, bounds, w1, w2, dh, dxs, dw1, dw2)
    E = w1.shape[0]
    for e in range(E):
        r = slice(bounds[e], bounds[e + 1])
        np.matmul(h[r].T, dout[r], out=dw2[e])  # an idle expert's slices are empty: zeros
        np.matmul(dout[r], w2[e].T, out=dh[r])
    dh *= h > 0  # relu
    for e in range(E):
        r = slice(bounds[e], bounds[e + 1])
        np.matmul(xs[r].T, dh[r], out=dw1[e])
        np.matmul(dh[r], w1[e].T, out=dxs[r])


def router_backward(probs, lse, expert, gate, dgate, f, aux_coef, z_coef):
    """d(loss)/d(logits) (N, E), float64, from d/dgate and the two auxiliary losses."""
    if _kernels:
        return _kernels.router_backward(probs, lse, expert, gate, dgate, f, aux_coef, z_coef)
    N, k = expert.shape
    E = probs.shape[1]
    if k == 1:
        dchosen = dgate
    else:  # gate_j = p_j / S, S = sum of the chosen p: d/dp_j = (dgate_j - sum_i dgate_i gate_i) / S
        S = np.take_along_axis(probs, expert, axis=1).sum(axis=1, keepdims=True)
        dchosen = (dgate - (dgate * gate).sum(axis=1, keepdims=True)) / S
    dprobs = np.zeros_like(probs)
    np.put_along_axis(dprobs, expert, dchosen, axis=1)  # a row's k experts are distinct
    dprobs += aux_coef * E * f / N  # aux = E * sum_i f_i * mean_t p_ti, f fixed
    dlogits = probs * (dprobs - (dprobs * probs).sum(axis=1, keepdims=True))
    dlogits += (z_coef * 2.0 / N) * lse[:, None] * probs  # z = mean lse^2, dlse/dlogits = probs
    return dlogits


# -- Numba, optional ----------------------------------------------------------------------------
_kernels = None  # tinylm.kernels while use_numba(True) is in force


def use_numba(on: bool = True) -> None:
    """Run top_k, gates_and_losses and the MoE kernels above (and train.AdamW) through their Numba
    versions in tinylm/kernels.py (True) or in NumPy (False, the default: importing numba and a
    first compile take time a short run cannot spare; train() decides per run)."""
    global _kernels
    if on:
        from . import kernels
        _kernels = kernels
    else:
        _kernels = None


def numba_kernels():
    """tinylm.kernels while use_numba(True) is in force, else None."""
    return _kernels


# -- the model ------------------------------------------------------------------------------
def forward(params: dict[str, np.ndarray], cfg: Config, idx: np.ndarray, targets: np.ndarray | None = None,
            fixed: list[Fixed] | None = None):
    """Logits (B, T, V), and with targets the losses. Returns (logits, stats, cache):
    stats = {"ce", "aux", "z", "loss", "layers": per-layer routing stats}; cache feeds backward()."""
    B, T = idx.shape
    if T > cfg.block_size:
        raise ValueError(f"sequence length {T} exceeds block_size {cfg.block_size}")
    x = params["wte"][idx] + params["wpe"][:T]
    caches, layers = [], []
    for l in range(cfg.n_layer):
        b = f"blocks.{l}."
        a, c_ln1 = layer_norm(x, params[b + "ln1.g"], params[b + "ln1.b"])
        a, c_att = attention(a, params[b + "attn.wqkv"], params[b + "attn.wo"], cfg.n_head)
        x = x + a
        m, c_ln2 = layer_norm(x, params[b + "ln2.g"], params[b + "ln2.b"])
        m2 = m.reshape(B * T, -1)
        if cfg.dense:
            f, c_ffn = dense_ffn(m2, params[b + "ffn.w1"], params[b + "ffn.w2"])
            layers.append({"aux": 0.0, "z": 0.0})
        else:
            f, st, c_ffn = moe(m2, params[b + "moe.router"], params[b + "moe.w1"], params[b + "moe.w2"],
                               cfg.top_k, cfg.capacity_factor, fixed[l] if fixed else None)
            layers.append(st)
        x = x + f.reshape(B, T, -1)
        caches.append((c_ln1, c_att, c_ln2, c_ffn))
    xf, c_lnf = layer_norm(x, params["ln_f.g"], params["ln_f.b"])
    logits = xf @ params["head"]
    aux = sum(s["aux"] for s in layers)
    z = sum(s["z"] for s in layers)
    stats = {"aux": aux, "z": z, "layers": layers}
    if targets is not None:
        logp = log_softmax(logits)
        ce = -np.take_along_axis(logp, targets[..., None], axis=-1).mean()
        stats.update(ce=float(ce), loss=float(ce + cfg.aux_coef * aux + cfg.z_coef * z))
    cache = (idx, targets, xf, c_lnf, logits, caches)
    return logits, stats, cache


def log_softmax(logits):
    m = logits.max(axis=-1, keepdims=True)
    z = logits - m
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def backward(params: dict[str, np.ndarray], cfg: Config, cache) -> dict[str, np.ndarray]:
    """Gradients of stats["loss"] with respect to every parameter (same keys and shapes)."""
    idx, targets, xf, c_lnf, logits, caches = cache
    B, T = idx.shape
    grads: dict[str, np.ndarray] = {}
    dlogits = np.exp(log_softmax(logits))
    np.put_along_axis(dlogits, targets[..., None], np.take_along_axis(dlogits, targets[..., None], axis=-1) - 1,
                      axis=-1)
    dlogits /= B * T
    grads["head"] = xf.reshape(-1, xf.shape[-1]).T @ dlogits.reshape(B * T, -1)
    dx, grads["ln_f.g"], grads["ln_f.b"] = layer_norm_backward(dlogits @ params["head"].T, c_lnf)
    for l in reversed(range(cfg.n_layer)):
        b = f"blocks.{l}."
        c_ln1, c_att, c_ln2, c_ffn = caches[l]
        df = dx.reshape(B * T, -1)
        if cfg.dense:
            dm, grads[b + "ffn.w1"], grads[b + "ffn.w2"] = dense_ffn_backward(
                df, c_ffn, params[b + "ffn.w1"], params[b + "ffn.w2"])
        else:
            dm, grads[b + "moe.router"], grads[b + "moe.w1"], grads[b + "moe.w2"] = moe_backward(
                df, c_ffn, params[b + "moe.router"], params[b + "moe.w1"], params[b + "moe.w2"],
                cfg.aux_coef, cfg.z_coef)
        dx2, grads[b + "ln2.g"], grads[b + "ln2.b"] = layer_norm_backward(dm.reshape(B, T, -1), c_ln2)
        dx = dx + dx2
        da, grads[b + "attn.wqkv"], grads[b + "attn.wo"] = attention_backward(
            dx, c_att, params[b + "attn.wqkv"], params[b + "attn.wo"], cfg.n_head)
        dx1, grads[b + "ln1.g"], grads[b + "ln1.b"] = layer_norm_backward(da, c_ln1)
        dx = dx + dx1
    grads["wpe"] = np.zeros_like(params["wpe"])
    grads["wpe"][:T] = dx.sum(axis=0)
    grads["wte"] = np.zeros_like(params["wte"])
    np.add.at(grads["wte"], idx.reshape(-1), dx.reshape(B * T, -1))
    return {name: grads[name] for name in params}


def loss_and_grads(params, cfg: Config, idx, targets, fixed: list[Fixed] | None = None):
    """One training evaluation: (stats, grads)."""
    _, stats, cache = forward(params, cfg, idx, targets, fixed)
    return stats, backward(params, cfg, cache)


def routing_of(stats: dict) -> list[Fixed]:
    """The routing decisions a forward pass made, to hold them fixed in a later pass."""
    return [Fixed(s["expert"], s["kept"], s["f"]) for s in stats["layers"]]


# -- sampling ----------------------------------------------------------------------------
def generate(params, cfg: Config, prompt: np.ndarray, n_tokens: int, temperature: float = 1.0,
             rng: np.random.Generator | None = None) -> np.ndarray:
    """Sample n_tokens after `prompt` (1-D ids), recomputing the last block_size tokens each step."""
    rng = rng or np.random.default_rng()
    ids = list(np.asarray(prompt, dtype=np.int64))
    for _ in range(n_tokens):
        context = np.array(ids[-cfg.block_size:], dtype=np.int64)[None, :]
        logits, _, _ = forward(params, cfg, context)
        last = logits[0, -1].astype(np.float64)
        if temperature <= 0:
            ids.append(int(np.argmax(last)))
            continue
        p = np.exp(log_softmax(last / temperature))
        ids.append(int(rng.choice(p.size, p=p / p.sum())))
    return np.array(ids[len(prompt):], dtype=np.int64)


# -- save / load ---------------------------------------------------------------------------
def save(path: Path, params: dict[str, np.ndarray], cfg: Config, extra: dict[str, np.ndarray] | None = None) -> None:
    """Weights to PATH.npz and the config to PATH.json, both written atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {f"p/{k}": v for k, v in params.items()}
    arrays.update(extra or {})
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, **arrays)
    tmp.replace(path.with_suffix(".npz"))
    tmp_json = path.with_name(path.name + ".tmp.json")
    tmp_json.write_text(cfg.to_json())
    tmp_json.replace(path.with_suffix(".json"))


def load(path: Path) -> tuple[dict[str, np.ndarray], Config, dict[str, np.ndarray]]:
    """(params, config, other arrays stored beside them) from PATH.npz + PATH.json."""
    path = Path(path)
    cfg = Config.from_json(path.with_suffix(".json").read_text())
    with np.load(path.with_suffix(".npz"), allow_pickle=False) as npz:
        params = {k[2:]: npz[k] for k in npz.files if k.startswith("p/")}
        extra = {k: npz[k] for k in npz.files if not k.startswith("p/")}
    return params, cfg, extra
