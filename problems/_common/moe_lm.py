"""Inputs, edge cases and checks shared by the moe-lm-loss and moe-lm-grad specs.

A case is (params, idx, targets, config): weights in the tiny LM's dict layout (float64),
token ids and next-token targets (B, T) int64, and a config dict. Weights are drawn at a
scale where every part matters (unit-variance activations, router logits of order 1, LN
gains away from 1), not at training init where a wrong LayerNorm or gate could hide.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from types import ModuleType

import numpy as np

from harness.spec import Case


def make_params(rng: np.random.Generator, *, V: int = 11, D: int = 8, L: int = 1, E: int = 4, H: int = 6,
                T_max: int = 16, dense: bool = False, router_scale: float = 1.0,
                saturate: float = 0.0) -> dict[str, np.ndarray]:
    """Weights in the layout of the statement; `router_scale` multiplies the router (0: all ties).
    `saturate` > 0 replaces expert 0's router column by `saturate` times a unit vector: tokens on
    one side of it give expert 0 a logit so far ahead that every other probability underflows
    to 0.0 (unequal logits, equal probabilities); tokens on the other side route normally."""
    def normal(shape, std):
        return rng.standard_normal(shape) * std

    p = {"wte": normal((V, D), 1.0), "wpe": normal((T_max, D), 0.5)}
    for l in range(L):
        b = f"blocks.{l}."
        p[b + "ln1.g"], p[b + "ln1.b"] = 1 + normal(D, 0.2), normal(D, 0.2)
        p[b + "attn.wqkv"] = normal((D, 3 * D), 1 / math.sqrt(D))
        p[b + "attn.wo"] = normal((D, D), 0.5 / math.sqrt(D))
        p[b + "ln2.g"], p[b + "ln2.b"] = 1 + normal(D, 0.2), normal(D, 0.2)
        if dense:
            p[b + "ffn.w1"] = normal((D, H), 1 / math.sqrt(D))
            p[b + "ffn.w2"] = normal((H, D), 0.5 / math.sqrt(H))
        else:
            p[b + "moe.router"] = normal((D, E), router_scale / math.sqrt(D))
            if saturate:
                v = rng.standard_normal(D)
                p[b + "moe.router"][:, 0] = saturate * v / np.linalg.norm(v)
            p[b + "moe.w1"] = normal((E, D, H), 1 / math.sqrt(D))
            p[b + "moe.w2"] = normal((E, H, D), 0.5 / math.sqrt(H))
    p["ln_f.g"], p["ln_f.b"] = 1 + normal(D, 0.2), normal(D, 0.2)
    p["head"] = normal((D, V), 1 / math.sqrt(D))
    return p


def make_case(rng: np.random.Generator, *, B: int = 2, T: int = 8, n_head: int = 2, k: int = 2,
              capacity_factor: float | None = None, aux_coef: float = 0.01, z_coef: float = 0.001,
              tokens: np.ndarray | None = None, **model) -> tuple:
    params = make_params(rng, T_max=max(T, model.pop("T_max", T)), **model)
    V = params["wte"].shape[0]
    ids = rng.integers(0, V, (B, T + 1)) if tokens is None else tokens
    config = {"n_head": n_head, "top_k": k, "capacity_factor": capacity_factor,
              "aux_coef": aux_coef, "z_coef": z_coef}
    return params, ids[:, :-1].copy(), ids[:, 1:].copy(), config


def make_random(rng: np.random.Generator, n_tokens: int) -> tuple:
    """About n_tokens tokens through a 2-layer model; k and capacity vary with the seed."""
    T = max(1, min(n_tokens, 32))
    B = max(1, round(n_tokens / T))
    k = int(rng.integers(1, 3))
    cf = [None, 1.0, 1.25][int(rng.integers(0, 3))]
    return make_case(rng, B=B, T=T, n_head=2, k=k, capacity_factor=cf, V=23, D=16, L=2, E=4, H=12, T_max=40)


def make_bench(rng: np.random.Generator, n_tokens: int) -> tuple:
    """Speed: a tiny-LM-sized model (D = 64, 8 experts, top-2), 64-token sequences."""
    T = 64
    return make_case(rng, B=max(1, n_tokens // T), T=T, n_head=4, k=2, V=65, D=64, L=2, E=8, H=64)


def edge_cases(extra: list[Case] | None = None) -> list[Case]:
    def case(name, note="", **kw):
        return Case(name, lambda rng: make_case(rng, **kw), note)

    return [
        case("one token", "B = T = 1: attention over a single position", B=1, T=1, k=1, E=2),
        case("vocabulary of one", "one possible token: the cross-entropy is exactly 0", V=1),
        case("router all zeros (ties)", "every probability equal: ties go to the lower expert index, so "
             "experts 0..k-1 win; gates are 1/k (k > 1)", router_scale=0.0, k=2, B=2, T=6),
        case("router all zeros, k = 1", "ties, and the k = 1 gate is the raw probability 1/E, not 1",
             router_scale=0.0, k=1),
        case("top-1 (Switch) gate", "k = 1: the gate is the raw softmax probability", k=1, E=4, B=2, T=8),
        case("k = E", "every token uses every expert", k=4, E=4),
        case("one expert", "E = 1: an ordinary FFN with gate 1", k=1, E=1),
        case("capacity drops most", "capacity_factor 0.25: C = ceil(0.25 * N * k / E); a dropped "
             "assignment adds nothing, but f_i counts 1st choices before dropping", capacity_factor=0.25,
             B=3, T=8, k=2, E=4),
        case("capacity of one slot", "capacity_factor 1e-9 still gives C = 1", capacity_factor=1e-9, k=2, E=4),
        case("capacity is plenty", "capacity_factor 100: nothing is dropped", capacity_factor=100.0, k=2),
        case("huge router logits", "logits of order 1e4: a softmax without max-subtraction overflows",
             router_scale=1e4, k=2),
        case("rounded probabilities with capacity", "expert 0's router column is 4,000 times a unit vector: "
             "for many tokens every other probability underflows to 0.0 although the logits differ; ranked "
             "by logit (moe-router rule 2), not by probability, their 2nd choices differ, and with "
             "capacity_factor 0.5 so do other tokens' kept assignments", saturate=4000.0, k=2,
             capacity_factor=0.5, B=4, T=8),
        case("dense blocks", "blocks with ffn.* instead of moe.*: no router, aux = z = 0", dense=True),
        case("shorter than the position table", "T = 5 < T_max = 16: use wpe[:T]", T=5, T_max=16),
        case("several layers and heads", "3 blocks, 4 heads, full 24-token context", L=3, n_head=4, D=16,
             T=24, B=2, E=4, H=8, k=2),
        Case("one repeated token", lambda rng: make_case(rng, tokens=np.full((2, 9), 3)), "idx all the same"),
    ] + (extra or [])


def size_of(args) -> float:
    return float(args[1].size)


def describe(args) -> str:
    params, idx, targets, config = args
    shapes = ", ".join(f"{k} {tuple(v.shape)}" for k, v in params.items())
    text = f"config: {config}\nparams: {shapes}"
    if idx.size <= 64:
        text += f"\nidx:\n{idx}\ntargets:\n{targets}"
    return text


def check_scalars(names: tuple[str, ...], expected, got, rtol: float = 1e-7,
                  variants: Callable[[], dict[str, dict[str, float]]] | None = None) -> str | None:
    """A tuple of floats, each within rtol * max(1, |expected|); every wrong one listed with its
    relative error and the tolerance. `variants()` gives, per name, the value a known mistake
    produces ({"aux_loss": {"f_i counts all k choices": 1.23}}): its hint is shown only when the
    submission's value matches it (computed only when a value is wrong)."""
    if not isinstance(got, (tuple, list)) or len(got) != len(names):
        return f"expected a tuple ({', '.join(names)}), got {type(got).__name__}" + \
               (f" of length {len(got)}" if isinstance(got, (tuple, list)) else "")
    wrong, known = [], None
    for name, e, g in zip(names, expected, got):
        try:
            g = float(np.asarray(g).reshape(()))
        except (TypeError, ValueError):
            return f"{name} is not a number: {g!r}"
        tol = rtol * max(1.0, abs(e))
        if not math.isfinite(g) and math.isfinite(e):
            wrong.append(f"{name}: got {g!r} (NaN/inf), expected {e!r}")
        elif abs(g - e) > tol:
            rel = abs(g - e) / abs(e) if e else math.inf
            line = (f"{name}: got {g!r}, expected {e!r} (difference {g - e:.3g}, relative error {rel:.3g}; "
                    f"tolerance {rtol:.0e} x max(1, |expected|) = {tol:.3g})")
            if variants is not None:
                known = variants() if known is None else known
                for why, value in known.get(name, {}).items():
                    if abs(g - value) <= rtol * max(1.0, abs(value)) and abs(value - e) > tol:
                        line += f"; it matches the value when {why}"
                        break
            wrong.append(line)
    if wrong:
        head = f"wrong {wrong[0].split(':')[0]}" + (f" (+{len(wrong) - 1} more)" if len(wrong) > 1 else "")
        return head + "".join(f"\n{w}" for w in wrong)
    return None


def aux_variants(ref: ModuleType, args: tuple) -> dict[str, dict[str, float]]:
    """The summed aux loss of the model under the common wrong conventions for f_i: the oracle's
    own layers (`ref`, the moe-lm-loss NumPy reference) give every MoE block's router input, and
    f_i is recounted there. Only to name a mistake in a failure message."""
    params, idx, targets, config = args
    B, T = idx.shape
    L = len({name.split(".")[1] for name in params if name.startswith("blocks.")})
    k, cf = config["top_k"], config["capacity_factor"]
    x = params["wte"][idx] + params["wpe"][:T]
    totals: dict[str, float] = {}
    for l in range(L):
        b = f"blocks.{l}."
        a = ref.layer_norm(x, params[b + "ln1.g"], params[b + "ln1.b"])
        x = x + ref.causal_attention(a, params[b + "attn.wqkv"], params[b + "attn.wo"], config["n_head"])
        m = ref.layer_norm(x, params[b + "ln2.g"], params[b + "ln2.b"]).reshape(B * T, -1)
        if b + "moe.router" in params:
            logits = m @ params[b + "moe.router"]
            expert, _, kept, _, _ = ref.route(logits, k, cf)
            N, E = logits.shape
            z = np.exp(logits - logits.max(axis=1, keepdims=True))
            P = (z / z.sum(axis=1, keepdims=True)).mean(axis=0)
            ways = {"f_i counts all k choices (T5X/Mixtral); here f_i counts 1st choices only":
                    np.bincount(expert.reshape(-1), minlength=E) / (N * k),
                    "f_i counts 1st choices after dropping; here they count before dropping":
                    np.bincount(expert[:, 0][kept[:, 0]], minlength=E) / N}
            for why, f in ways.items():
                totals[why] = totals.get(why, 0.0) + E * float(f @ P)
            y, _, _ = ref.moe(m, params[b + "moe.router"], params[b + "moe.w1"], params[b + "moe.w2"], k, cf)
        else:
            y = np.maximum(m @ params[b + "ffn.w1"], 0) @ params[b + "ffn.w2"]
        x = x + y.reshape(B, T, -1)
    return {"aux_loss": totals}


def check_grads(expected: dict, got, rtol: float = 1e-6) -> str | None:
    """Same keys and shapes; each array within rtol * (its largest expected |entry|). Every
    wrong array is listed with its relative error (largest |got - expected| over the largest
    |expected|) against the tolerance; shapes and dtypes that are wrong are listed too."""
    if not isinstance(got, dict):
        return f"expected a dict of gradients, got {type(got).__name__}"
    missing, extra = sorted(set(expected) - set(got)), sorted(set(got) - set(expected))
    if missing or extra:
        return f"the keys differ from the parameters' (missing {missing[:5]}, unexpected {extra[:5]})"
    bad, broken = [], []
    for key, e in expected.items():
        g = np.asarray(got[key])
        if g.shape != e.shape:
            broken.append(f"{key}: shape {g.shape}, expected {e.shape}")
            continue
        if g.dtype.kind not in "fiu":
            broken.append(f"{key}: dtype {g.dtype} is not numeric")
            continue
        g = g.astype(np.float64)
        scale = float(np.abs(e).max(initial=0.0))
        tol = rtol * scale + 1e-12
        with np.errstate(invalid="ignore"):
            err = np.abs(g - e)
            wrong = ~(err <= tol)
        if wrong.any():
            worst = float(np.where(np.isnan(err), np.inf, err).max())
            bad.append((key, wrong, g, e, tol, worst / scale if scale else math.inf))
    if not bad and not broken:
        return None
    lines = []
    if bad:
        key, wrong, g, e, tol, rel = bad[0]
        lines.append(f"wrong gradient for {len(bad)} of {len(expected)} arrays, first {key}: "
                     f"{int(wrong.sum())} of {e.size} entries off by more than {tol:.3g} (relative error {rel:.3g} "
                     f"of its largest |expected|; tolerance {rtol:.0e})"
                     + (f" (+{len(broken)} more: shapes or dtypes)" if broken else ""))
        lines.append("arrays: " + ", ".join(f"{b[0]} (relative error {b[5]:.3g})" for b in bad))
        for flat in np.flatnonzero(wrong.reshape(-1))[:5]:
            index = np.unravel_index(flat, e.shape)
            lines.append(f"  {key}{list(map(int, index))}: got {g[index]!r}, expected {e[index]!r}")
        if not np.isfinite(g).all():
            lines.append(f"  {key} holds NaN/inf")
    else:
        lines.append(broken[0] + (f" (+{len(broken) - 1} more)" if len(broken) > 1 else ""))
    lines += broken if bad or len(broken) > 1 else []
    return "\n".join(lines)
