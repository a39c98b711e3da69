"""deepseek-moe-forward references against a dense float64 oracle (every expert on every token, then
the statement's router applied), the layer's identities, and every number of the statement's
parameter and FLOP table recomputed from the published configurations."""
from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness import problems
from problems._common import deepseek, moe
from tests.moe_oracles import reference
from tests.test_deepseek_router import route_py

PROBLEM = problems.get("deepseek-moe-forward")
REFS = {name: reference(name).deepseek_moe_forward
        for name in ("deepseek_moe_forward_numpy", "deepseek_moe_forward_numba")}
README = (PROBLEM.folder / "README.md").read_text(encoding="utf-8")


def swiglu64(x, wg, wu, wd):
    g = x @ wg
    return (g / (1 + np.exp(-g)) * (x @ wu)) @ wd


def forward_dense(x, w_router, bias, shared, routed, k, G, M, scale):
    """float64: every expert on every token, then the pure-Python router's choices and gates."""
    x64 = x.astype(np.float64)
    T, D = x.shape
    E = routed[0].shape[0]
    y = np.zeros((T, D))
    for i in range(shared[0].shape[0]):
        y += swiglu64(x64, *(w[i].astype(np.float64) for w in shared))
    outs = np.stack([swiglu64(x64, *(w[e].astype(np.float64) for w in routed)) for e in range(E)]) if T else None
    expert, gate, *_ = route_py((x @ w_router).astype(np.float64), bias, k, G, M, max(T, 1), 0.0, 0.0)
    for t in range(T):
        for j in range(k):
            y[t] += scale * gate[t, j] * outs[expert[t, j], t]
    return y


def edge_case(name: str) -> tuple:
    (case,) = [c for c in PROBLEM.edge_cases if c.name == name]
    return case.make(np.random.default_rng(2))


def assert_close(got, want, rtol=2e-5):
    assert got.dtype == np.float32 and got.shape == want.shape
    message = moe.compare_scaled("y", got, want, rtol=rtol)
    assert message is None, message


@pytest.mark.parametrize("name", REFS)
@pytest.mark.parametrize("case", [c.name for c in PROBLEM.edge_cases])
def test_edge_cases_match_the_dense_oracle(name, case):
    args = edge_case(case)
    assert_close(REFS[name](*args), forward_dense(*args))


@st.composite
def layers(draw):
    E, G, M, k = draw(st.sampled_from([(4, 1, 1, 1), (4, 2, 1, 2), (8, 4, 2, 3), (6, 3, 3, 6), (8, 2, 1, 4)]))
    T = draw(st.integers(0, 24))
    Ns = draw(st.integers(0, 2))
    scale = draw(st.sampled_from([1.0, 2.5]))
    seed = draw(st.integers(0, 2**32 - 1))
    return deepseek.layer_args(np.random.default_rng(seed), T, 8, 4, E, Ns, k, G, M, scale,
                               tied=draw(st.booleans()), skew=draw(st.booleans()))


@pytest.mark.parametrize("name", REFS)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(args=layers())
def test_random_layers_match_the_dense_oracle(name, args):
    assert_close(REFS[name](*args), forward_dense(*args))


@pytest.mark.parametrize("name", REFS)
def test_random_cases_match_the_dense_oracle(name):
    args = PROBLEM.make_random(np.random.default_rng(7), 200)
    assert_close(REFS[name](*args), forward_dense(*args))


@pytest.mark.parametrize("name", REFS)
def test_worked_example(name):
    y = REFS[name](*edge_case("worked example"))
    h = 1 / (1 + math.exp(-1))  # silu(1) * 1
    s2, s1 = 1 / (1 + math.exp(-2)), 0.5
    g1, g2 = s2 / (s1 + s2), s1 / (s1 + s2)
    want = [[h + g1 * h, h + g2 * h], [h + g1 * 2 * h, h + g2 * 2 * h]]
    np.testing.assert_allclose(y, want, rtol=1e-6)
    assert [round(float(v), 4) for v in y.ravel()] == [1.1974, 0.9958, 1.6637, 1.2605]  # as printed


@pytest.mark.parametrize("name", REFS)
def test_shared_experts_are_one_wide_ffn_and_routing_is_linear_in_route_scale(name):
    x, w_router, bias, shared, routed, k, G, M, _ = deepseek.layer_args(np.random.default_rng(1), 40, 16, 8, 8, 2,
                                                                        2, 4, 2)
    no_routed = (routed[0], routed[1], np.zeros_like(routed[2]))
    only_shared = REFS[name](x, w_router, bias, shared, no_routed, k, G, M, 1.0)
    wide = swiglu64(x.astype(np.float64), np.concatenate(list(shared[0]), axis=1),
                    np.concatenate(list(shared[1]), axis=1), np.concatenate(list(shared[2]), axis=0))
    assert_close(only_shared, wide)
    no_shared = tuple(w[:0] for w in shared)
    one = REFS[name](x, w_router, bias, no_shared, routed, k, G, M, 1.0)
    assert_close(REFS[name](x, w_router, bias, no_shared, routed, k, G, M, 2.5), 2.5 * one.astype(np.float64))


# -- the statement's parameter and FLOP table -------------------------------------------
def count(c: dict) -> dict:
    """Weights of a DeepSeek model from its config (an independent count: see the README's conventions)."""
    D, L, V, heads = c["hidden_size"], c["num_hidden_layers"], c["vocab_size"], c["num_attention_heads"]
    if c["attention"] == "mha":
        attention = 4 * D * D  # q, k, v, o
    else:  # multi-head latent attention: low-rank q and kv with their RMSNorms
        rope, nope, v = c["qk_rope_head_dim"], c["qk_nope_head_dim"], c["v_head_dim"]
        q = D * c["q_lora_rank"] + c["q_lora_rank"] + c["q_lora_rank"] * heads * (nope + rope)
        kv = D * (c["kv_lora_rank"] + rope) + c["kv_lora_rank"] + c["kv_lora_rank"] * heads * (nope + v)
        attention = q + kv + heads * v * D
    per_layer = attention + 2 * D  # two RMSNorms
    expert = 3 * D * c["moe_intermediate_size"]
    E, Ns, k = c["n_routed_experts"], c["n_shared_experts"], c["num_experts_per_tok"]
    dense_layers = c["first_k_dense_replace"]
    moe_layers = L - dense_layers
    layer_total = (E + Ns) * expert + E * D
    layer_active = (k + Ns) * expert + E * D
    rest = L * per_layer + dense_layers * 3 * D * c["intermediate_size"] + 2 * V * D + D
    total, active = rest + moe_layers * layer_total, rest + moe_layers * layer_active
    return {"expert": expert, "layer_total": layer_total, "layer_active": layer_active, "total": total,
            "active": active, "share": 100 * active / total, "routed": 100 * moe_layers * E * expert / total,
            "flops": 2 * (active - V * D)}


def table_row(label: str) -> list[str]:
    (line,) = [ln for ln in README.splitlines() if ln.startswith(f"| {label}") or ln.startswith(f"| **{label}")]
    return [cell.strip().strip("*") for cell in line.strip("|").split("|")[1:]]


ROWS = {"weights per expert": "expert", "one MoE layer, all experts": "layer_total",
        "one MoE layer, active": "layer_active", "model total": "total", "model active": "active",
        "active share": "share", "routed experts' share": "routed", "forward FLOPs per token": "flops"}


@pytest.mark.parametrize("label", ROWS)
def test_every_number_in_the_table_is_recomputed(label):
    cells = table_row(label)
    assert len(cells) == len(deepseek.CONFIGS)
    for cell, config in zip(cells, deepseek.CONFIGS.values()):
        want = count(config)[ROWS[label]]
        if cell.endswith("%"):
            assert cell == f"{want:.{len(cell.split('.')[1]) - 1}f}%", (label, cell, want)
        else:
            assert int(cell.replace(",", "")) == want, (label, cell, want)


def test_the_counts_agree_with_the_published_rounded_figures():
    published = {"DeepSeekMoE 16B": (16.4e9, 2.8e9), "DeepSeek-V2": (236e9, 21e9), "DeepSeek-V3": (671e9, 37e9)}
    for name, (total, active) in published.items():
        got = count(deepseek.CONFIGS[name])
        assert abs(got["total"] - total) / total < 0.005 and abs(got["active"] - active) / active < 0.04, name


def test_the_configuration_rows_and_combination_counts():
    assert table_row("d_model, layers") == ["2048, 28 (1)", "5120, 60 (1)", "7168, 61 (3)"]
    assert table_row("routed experts, shared, top-k") == ["64, 2, 6", "160, 2, 6", "256, 1, 8"]
    assert table_row("expert hidden size") == ["1408", "1536", "2048"]
    numbers = {int(n.replace(",", "")) for n in re.findall(r"\d[\d,]{3,}", README)}
    assert math.comb(64, 6) in numbers and math.comb(16, 2) == 120 and 4 * 1408 == 5632


def test_flop_model_counts_the_assignments():
    args = PROBLEM.make_bench(np.random.default_rng(0), 512)
    T, D = args[0].shape
    E, _, H = args[4][0].shape
    assert PROBLEM.flops_of(args) == 2 * T * D * E + 6 * D * H * T * (args[3][0].shape[0] + args[5])


def test_editorial_numbers():
    text = (PROBLEM.folder / "editorial.md").read_text(encoding="utf-8")
    b = dict(D=256, H=64, E=64, n_shared=2, k=6)
    assert f"{math.comb(64, 8) / 1e9:.1f}" == "4.4" and "4.4·10⁹" in text
    assert 8 * 1408 == 2 * 5632 == 11_264 and "11,264" in text
    per_token = deepseek.forward_flops(1, b["D"], b["H"], b["E"], b["n_shared"], b["k"])
    assert f"{per_token / 1e6:.2f}" == "0.82" and "0.82 MFLOP" in text
    n = 8192 * 6 / 64
    intensity = 2 * n * b["D"] * b["H"] / (4 * (n * b["D"] + b["D"] * b["H"] + n * b["H"]))
    assert round(intensity) == 24 and "about 24 FLOP/byte" in text
    assert round((b["E"] + b["n_shared"]) * 3 * b["D"] * b["H"] * 4 / 1e6) == 13 and "13 MB" in text
    assert 512 * 6 / 64 == 48 and "about 48 tokens" in text
