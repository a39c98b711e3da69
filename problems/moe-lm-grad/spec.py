"""moe-lm-grad: gradients of the tiny sparse LM's loss with respect to every weight."""

from harness.spec import Case, Limits, Problem
from problems._common import moe_lm

EXTRA = [
    Case("no auxiliary losses", lambda rng: moe_lm.make_case(rng, aux_coef=0.0, z_coef=0.0),
         "aux_coef = z_coef = 0: the router learns from the task loss alone, through the gates"),
    Case("large aux and z coefficients", lambda rng: moe_lm.make_case(rng, aux_coef=1.0, z_coef=0.5),
         "the auxiliary losses dominate the router's gradient"),
]


def _check(args, expected, got):
    return moe_lm.check_grads(expected, got)


PROBLEM = Problem(
    slug="moe-lm-grad",
    title="Sparse MoE language model: the backward pass",
    difficulty="hard",
    entry="moe_lm_grad",
    edge_cases=moe_lm.edge_cases(EXTRA),
    make_random=moe_lm.make_random,
    random_sizes=[16, 128, 1_024],
    bench_sizes=[1_024, 4_096, 8_192],
    size_of=moe_lm.size_of,
    size_unit="tokens",
    expected_exponent=1.0,
    check=_check,
    oracle="numpy",
    timing_reference="numpy",
    # autograd, an oracle independent of the hand-written backward; only where torch is installed
    forbidden_imports=("torch", "jax", "tensorflow"),
    describe=moe_lm.describe,
    make_bench=moe_lm.make_bench,
    limits=Limits(wall_s=60.0),
    tags=("mixture of experts", "language model", "backpropagation", "seed note Q6"),
)
