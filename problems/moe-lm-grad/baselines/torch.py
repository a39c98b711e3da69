# requires: torch
"""moe-lm-grad with PyTorch autograd: for comparison, never ranked.

The routing decisions (top-k, capacity, the 1st-choice fractions f) are computed under
no_grad and used as constants; the gates, the router probabilities and the logsumexp stay in
the graph. Autograd then gives exactly the "routing held fixed" gradient, an oracle independent
of the hand-written backward passes. `loss_and_grads` also serves the throughput benchmark
(benchmarks/test_bench_tinylm.py) in float32.
"""
import math

import numpy as np
import torch


def _layer_norm(x, g, b):
    return torch.nn.functional.layer_norm(x, x.shape[-1:], g, b, eps=1e-5)


def _attention(x, wqkv, wo, n_head):
    B, T, D = x.shape
    q, k, v = (x @ wqkv).reshape(B, T, 3, n_head, D // n_head).permute(2, 0, 3, 1, 4)
    y = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    return y.transpose(1, 2).reshape(B, T, D) @ wo


def _moe(x, wr, w1, w2, k, capacity_factor):
    N, E = x.shape[0], wr.shape[1]
    logits = x @ wr
    probs = torch.softmax(logits.double(), dim=1)  # router probabilities in float64
    with torch.no_grad():
        expert = np.argsort(-logits.detach().double().cpu().numpy(), axis=1, kind="stable")[:, :k]  # by logit
        kept = np.ones((N, k), dtype=bool)
        if capacity_factor is not None:
            capacity = math.ceil(capacity_factor * N * k / E)
            used = np.zeros(E, dtype=np.int64)
            for j in range(k):
                for t in range(N):
                    kept[t, j] = used[expert[t, j]] < capacity
                    used[expert[t, j]] += kept[t, j]
        f = torch.from_numpy(np.bincount(expert[:, 0], minlength=E) / N)
    expert_t = torch.from_numpy(expert)
    chosen = probs.gather(1, expert_t)
    gate = chosen if k == 1 else chosen / chosen.sum(dim=1, keepdim=True)
    gate = gate.to(x.dtype)
    y = torch.zeros_like(x)
    for e in range(E):
        tok, slot = np.nonzero((expert == e) & kept)
        if tok.size:
            tok_t, slot_t = torch.from_numpy(tok), torch.from_numpy(slot)
            out = torch.relu(x[tok_t] @ w1[e]) @ w2[e]
            y = y.index_add(0, tok_t, gate[tok_t, slot_t, None] * out)
    aux = E * (f * probs.mean(dim=0)).sum()
    z = (torch.logsumexp(logits.double(), dim=1) ** 2).mean()
    return y, aux, z


def loss(params, idx, targets, config):
    B, T = idx.shape
    L = len({name.split(".")[1] for name in params if name.startswith("blocks.")})
    x = params["wte"][idx] + params["wpe"][:T]
    aux_total = z_total = torch.zeros((), dtype=torch.float64)
    for l in range(L):
        b = f"blocks.{l}."
        x = x + _attention(_layer_norm(x, params[b + "ln1.g"], params[b + "ln1.b"]),
                           params[b + "attn.wqkv"], params[b + "attn.wo"], config["n_head"])
        m = _layer_norm(x, params[b + "ln2.g"], params[b + "ln2.b"]).reshape(B * T, -1)
        if b + "moe.router" in params:
            f, aux, z = _moe(m, params[b + "moe.router"], params[b + "moe.w1"], params[b + "moe.w2"],
                             config["top_k"], config["capacity_factor"])
            aux_total, z_total = aux_total + aux, z_total + z
        else:
            f = torch.relu(m @ params[b + "ffn.w1"]) @ params[b + "ffn.w2"]
        x = x + f.reshape(B, T, -1)
    logits = _layer_norm(x, params["ln_f.g"], params["ln_f.b"]) @ params["head"]
    ce = torch.nn.functional.cross_entropy(logits.reshape(B * T, -1), targets.reshape(-1))
    return ce + config["aux_coef"] * aux_total + config["z_coef"] * z_total


def loss_and_grads(params, idx, targets, config):
    """(loss, {name: gradient}) for NumPy weights of any float dtype."""
    tensors = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    value = loss(tensors, torch.from_numpy(np.asarray(idx, dtype=np.int64)),
                 torch.from_numpy(np.asarray(targets, dtype=np.int64)), config)
    value.backward()
    return float(value), {k: t.grad.numpy() if t.grad is not None else np.zeros_like(params[k])
                          for k, t in tensors.items()}


def moe_lm_grad(params, idx, targets, config):
    return loss_and_grads(params, idx, targets, config)[1]
