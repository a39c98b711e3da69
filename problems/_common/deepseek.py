"""Shared pieces of the DeepSeek-style problems (deepseek-moe-forward, ep-dispatch): published
configurations, the layer's input generator and its FLOP model.

Inputs follow problems/_common/moe.py's grids, so that `x @ w_router` is exact in float32 and in
float64 in any summation order: every implementation sees the same router logits. Biases are
continuous (not on a grid): sums of two biased scores that are equal in exact arithmetic (for
example sigmoid(a) + sigmoid(-a) = 1 in two different groups) would otherwise tie before rounding
and be decided by it.
"""
from __future__ import annotations

import numpy as np

from problems._common import moe

# Published configurations (the models' config.json on Hugging Face): the keys are the config's own.
CONFIGS = {
    "DeepSeekMoE 16B": dict(hidden_size=2048, num_hidden_layers=28, first_k_dense_replace=1, intermediate_size=10944,
                            moe_intermediate_size=1408, n_routed_experts=64, n_shared_experts=2, num_experts_per_tok=6,
                            num_attention_heads=16, vocab_size=102400, attention="mha"),
    "DeepSeek-V2": dict(hidden_size=5120, num_hidden_layers=60, first_k_dense_replace=1, intermediate_size=12288,
                        moe_intermediate_size=1536, n_routed_experts=160, n_shared_experts=2, num_experts_per_tok=6,
                        num_attention_heads=128, vocab_size=102400, attention="mla", q_lora_rank=1536,
                        kv_lora_rank=512, qk_nope_head_dim=128, qk_rope_head_dim=64, v_head_dim=128,
                        n_group=8, topk_group=3),
    "DeepSeek-V3": dict(hidden_size=7168, num_hidden_layers=61, first_k_dense_replace=3, intermediate_size=18432,
                        moe_intermediate_size=2048, n_routed_experts=256, n_shared_experts=1, num_experts_per_tok=8,
                        num_attention_heads=128, vocab_size=129280, attention="mla", q_lora_rank=1536,
                        kv_lora_rank=512, qk_nope_head_dim=128, qk_rope_head_dim=64, v_head_dim=128,
                        n_group=8, topk_group=4, routed_scaling_factor=2.5),
}


def swiglu_weights(rng: np.random.Generator, n: int, D: int, H: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(w_gate, w_up) (n, D, H) on moe's exact grid and w_down (n, H, D) Gaussian, float32, O(1) outputs."""
    w_gate, w_down = moe.expert_weights(rng, D, H, n)
    w_up, _ = moe.expert_weights(rng, D, H, n)
    return w_gate, w_up, w_down


def layer_args(rng: np.random.Generator, T: int, D: int, H: int, E: int, n_shared: int, k: int, n_groups: int,
               top_groups: int, route_scale: float = 1.0, *, bias_scale: float = 0.1, tied: bool = False,
               skew: bool = False) -> tuple:
    """Arguments of deepseek_moe_forward: (x, w_router, bias, shared, routed, k, n_groups, top_groups, route_scale).

    tied: expert E-1 copies expert 0's router column and bias, so they tie on every token.
    skew: feature 0 is a constant 1 with a large router weight towards expert 0."""
    x, w_router = moe.grid_inputs(rng, T, D, E)
    if skew and T and D:
        x[:, 0] = 1.0
        w_router[0, :] = 0.0
        w_router[0, 0] = 4.0
    bias = rng.uniform(-bias_scale, bias_scale, E)
    if tied and E > 1:
        w_router[:, -1] = w_router[:, 0]
        bias[-1] = bias[0]
    return (x, w_router, bias, swiglu_weights(rng, n_shared, D, H), swiglu_weights(rng, E, D, H), k, n_groups,
            top_groups, route_scale)


def forward_flops(T: int, D: int, H: int, E: int, n_shared: int, k: int) -> float:
    """Router GEMM (2TDE) plus three GEMMs (2DH FLOPs each) per token per shared and per routed expert."""
    return 2.0 * T * D * E + 6.0 * D * H * T * (n_shared + k)


def expert_params(D: int, H: int) -> int:
    """One SwiGLU expert: gate, up and down matrices."""
    return 3 * D * H

