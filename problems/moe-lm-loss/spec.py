"""moe-lm-loss: the tiny sparse LM's forward pass: mean cross-entropy, aux loss and z-loss."""
import math
from pathlib import Path

import numpy as np

from harness import known
from harness.problems import load_module
from harness.spec import Limits, Problem
from problems._common import moe_lm


def _one_router_block(d: dict) -> tuple:
    """A case of cases.toml as a model: one MoE block whose router gives token id v exactly the
    probabilities router_probabilities[v]. Embeddings are orthogonal rows of +-1 (mean 0, variance
    1: LayerNorm only divides them by sqrt(1 + 1e-5)); attention, experts and unembedding are zero;
    the router maps embedding v to the logits log p[v]. So ce = log V, z_loss = 0, aux as written."""
    logp = np.log(np.array(d["router_probabilities"], dtype=np.float64))  # (token ids, E), at most 3 ids
    (ids, E), D, H = logp.shape, 4, 2
    wte = np.array([[1.0, -1.0, 1.0, -1.0], [1.0, 1.0, -1.0, -1.0], [1.0, -1.0, -1.0, 1.0], [0.0] * 4])
    idx, targets = np.array(d["idx"], dtype=np.int64), np.array(d["targets"], dtype=np.int64)
    ones, zeros = np.ones(D), np.zeros(D)
    params = {"wte": wte, "wpe": np.zeros((idx.shape[1], D)),
              "blocks.0.ln1.g": ones, "blocks.0.ln1.b": zeros, "blocks.0.attn.wqkv": np.zeros((D, 3 * D)),
              "blocks.0.attn.wo": np.zeros((D, D)), "blocks.0.ln2.g": ones.copy(), "blocks.0.ln2.b": zeros.copy(),
              "blocks.0.moe.router": math.sqrt(1 + 1e-5) * wte[:ids].T @ logp / D,
              "blocks.0.moe.w1": np.zeros((E, D, H)), "blocks.0.moe.w2": np.zeros((E, H, D)),
              "ln_f.g": ones.copy(), "ln_f.b": zeros.copy(), "head": np.zeros((D, wte.shape[0]))}
    config = {"n_head": 1, "top_k": d["top_k"], "capacity_factor": d.get("capacity_factor"),
              "aux_coef": 0.01, "z_coef": 0.001}
    return params, idx, targets, config


# written out with its answer in cases.toml: the statement's worked example, in a model built round it
KNOWN = known.cases(__file__, args=_one_router_block, parts=("ce", "aux_loss", "z_loss"))


def _check(args, expected, got):
    return moe_lm.check_scalars(("ce", "aux_loss", "z_loss"), expected, got,
                                variants=lambda: moe_lm.aux_variants(load_module(ORACLE), args))


ORACLE = Path(__file__).parent / "reference" / "numpy.py"


PROBLEM = Problem(
    slug="moe-lm-loss",
    title="Sparse MoE language model: the loss",
    difficulty="hard",
    entry="moe_lm_loss",
    edge_cases=[*KNOWN, *moe_lm.edge_cases()],
    make_random=moe_lm.make_random,
    random_sizes=[16, 128, 1_024],
    bench_sizes=[1_024, 4_096, 8_192],
    size_of=moe_lm.size_of,
    size_unit="tokens",
    expected_exponent=1.0,
    check=_check,
    oracle="numpy",
    timing_reference="numpy",
    forbidden_imports=("torch", "jax", "tensorflow"),
    describe=moe_lm.describe,
    make_bench=moe_lm.make_bench,
    limits=Limits(wall_s=60.0),
    tags=("mixture of experts", "language model", "seed note Q6"),
)
