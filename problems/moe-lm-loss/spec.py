"""moe-lm-loss: the tiny sparse LM's forward pass: mean cross-entropy, aux loss and z-loss."""
from harness.spec import Limits, Problem
from problems._common import moe_lm


def _check(args, expected, got):
    return moe_lm.check_scalars(("ce", "aux_loss", "z_loss"), expected, got)


PROBLEM = Problem(
    slug="moe-lm-loss",
    title="Sparse MoE language model: the loss",
    difficulty="hard",
    entry="moe_lm_loss",
    edge_cases=moe_lm.edge_cases(),
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
