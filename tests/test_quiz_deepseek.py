"""The deepseek-ep quiz formulas against independent computations: simulations, the problems'
references and specs, and the published DeepSeek-V3 configuration."""
from __future__ import annotations

import math
import tomllib

import numpy as np
import pytest

from harness import problems
from problems._common import deepseek
from quiz import engine as quiz
from quiz.formulas import FORMULAS
from tests.moe_oracles import reference
from tests.test_deepseek_moe_forward import count

CARDS = {raw["id"]: raw for raw in tomllib.loads((quiz.CARDS_DIR / "cards" / "deepseek-ep.toml").read_text())["card"]}
V3 = deepseek.CONFIGS["DeepSeek-V3"]


def value(name: str, **params):
    return FORMULAS[name](**params).value


def test_the_topic_has_enough_computed_cards():
    assert len(CARDS) >= 8 and sum("formula" in c for c in CARDS.values()) >= 8


def test_v3_parameter_cards_match_the_config_count():
    params = CARDS["dsep-v3-total"]["params"]
    assert params == CARDS["dsep-v3-active"]["params"]
    got = count(V3)
    assert value("deepseek_total_params", **params) == got["total"] == 671_026_404_352
    assert value("deepseek_active_params", **params) == got["active"] == 37_552_282_624
    assert (params["d_model"], params["moe_d_ff"], params["experts"], params["vocab"]) == (
        V3["hidden_size"], V3["moe_intermediate_size"], V3["n_routed_experts"], V3["vocab_size"])


def test_memory_card_uses_v3s_split_of_the_weights():
    p = CARDS["dsep-ep-tp-dp-memory"]["params"]
    c = count(V3)
    routed = (V3["num_hidden_layers"] - V3["first_k_dense_replace"]) * V3["n_routed_experts"] * c["expert"]
    assert p["expert_params"] == routed and p["expert_params"] + p["dense_params"] == c["total"]
    share = p["expert_params"] / p["ep"] + p["dense_params"] / p["tp"]
    assert value("ep_tp_dp_bytes_per_device", **p) == pytest.approx(share * (4 + 12 / p["dp"]))


def test_distinct_experts_against_a_simulation():
    rng = np.random.default_rng(0)
    E, k, B = 256, 8, 32
    touched = [np.unique(np.argsort(rng.random((B, E)), axis=1)[:, :k]).size for _ in range(400)]
    assert np.mean(touched) == pytest.approx(value("expected_distinct_experts", experts=E, top_k=k, batch=B), rel=0.01)
    assert value("expected_distinct_experts", experts=E, top_k=k, batch=1) == pytest.approx(k)
    p = CARDS["dsep-decode-bytes"]["params"]
    per_expert = 3 * p["d_model"] * p["d_ff"] * p["bytes_per_param"]
    assert value("decode_step_expert_bytes", **p) == pytest.approx(
        value("expected_distinct_experts", experts=E, top_k=k, batch=B) * per_expert * p["moe_layers"])


def test_cross_node_copies_against_the_ep_dispatch_reference():
    spec = problems.get("ep-dispatch").check.__globals__
    args = spec["layer"](np.random.default_rng(1), 64, 64, 256, 8, 1, 8)
    traffic = reference("ep_dispatch_numba").ep_dispatch(*args).traffic
    measured = traffic["node_bytes_dedup"] / 4 / (64 * 64)
    assert measured == pytest.approx(value("cross_node_copies", nodes=8, experts=256, top_k=8), rel=0.03)


def test_compute_bound_batch_is_the_roofline_ridge():
    p = CARDS["dsep-compute-bound-batch"]["params"]
    B = value("moe_decode_compute_bound_batch", **p)
    tokens_per_expert = B * p["top_k"] / p["experts"]
    weights = 1.0  # per weight of one expert: 2 FLOPs per token, bytes_per_param bytes read once
    t_compute = 2 * weights * tokens_per_expert / (p["peak_tflops"] * 1e12)
    t_memory = weights * p["bytes_per_param"] / (p["bandwidth_tbps"] * 1e12)
    assert t_compute == pytest.approx(t_memory, rel=1e-12)


def test_step_bytes_is_four_exchanges_of_the_existing_layer_formula():
    p = CARDS["dsep-step-all-to-all-bytes"]["params"]
    forward = value("all_to_all_bytes", tokens_per_device=p["tokens_per_device"], top_k=p["top_k"],
                    d_model=p["d_model"], bytes_per_value=p["bytes_per_value"], devices=p["devices"])
    assert value("ep_step_all_to_all_bytes", **p) == pytest.approx(2 * forward * p["moe_layers"])
    one = value("ep_step_all_to_all_bytes", **{**p, "moe_layers": 1}) / 4
    assert CARDS["dsep-all-to-all-time"]["params"]["bytes_per_device"] == one  # the time card times one exchange


def test_alpha_beta_time():
    assert value("all_to_all_time_us", bytes_per_device=0, devices=8, latency_us=2, gbytes_per_s=100) == 14
    assert value("all_to_all_time_us", bytes_per_device=1e9, devices=1, latency_us=2, gbytes_per_s=100) == 1e4


def test_expert_choice_cards_agree_with_the_problem():
    spec = problems.get("expert-choice").check.__globals__
    p = CARDS["dsep-ec-capacity"]["params"]
    assert value("expert_choice_capacity", **p) == spec["capacity"](p["tokens"], p["capacity_factor"], p["experts"])
    assert value("expert_choice_capacity", tokens=100, experts=7, capacity_factor=0.07) == 2  # the statement's case
    p = CARDS["dsep-ec-decode"]["params"]
    tokens, _, _ = reference("expert_choice_numpy").expert_choice(np.zeros((1, p["experts"])), p["capacity_factor"])
    assert value("expert_choice_decode_experts", **p) == tokens.size == p["experts"]
    assert math.ceil(1 * p["capacity_factor"] / p["experts"]) == 1
