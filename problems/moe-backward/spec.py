"""moe-backward: gradients of a top-k Mixture-of-Experts FFN layer, routing held fixed."""
import numpy as np

from harness import known
from harness.spec import Case, Limits, Problem
from problems._common import moe

BENCH = dict(D=256, H=512, E=8, k=2)


def _random(rng: np.random.Generator, T: int) -> tuple:
    E = int(rng.choice([4, 8]))
    k = int(rng.choice([1, 2]))
    cf = [None, 1.0, 1.25][int(rng.integers(3))]
    return moe.backward_args(rng, T, 32, 48, E, k, cf)


def _bench(rng: np.random.Generator, T: int) -> tuple:
    return moe.backward_args(rng, T, BENCH["D"], BENCH["H"], BENCH["E"], BENCH["k"], None)


def _known_args(d: dict) -> tuple:
    """moe_backward's arguments from a case of cases.toml."""
    x, w_router, w1, w2, dy = (np.array(d[name], dtype=np.float32) for name in ("x", "w_router", "w1", "w2", "dy"))
    return x, w_router, w1, w2, d["k"], dy, d.get("capacity_factor"), d["aux_coef"], d["z_coef"]


# written out with its answer in cases.toml: the statement's worked example (moe-forward's, with
# dy = 1 and no aux losses)
KNOWN = known.cases(__file__, args=_known_args, parts=("dx", "dw_router", "dw1", "dw2"))


def _ties(rng):
    args = list(moe.backward_args(rng, 16, 8, 8, 4, 2, 1.0, tied_columns=True))
    args[0][::3] = 0.0  # every logit 0: experts 0 and 1; relu'(0) = 0 for these rows
    return tuple(args)


def _case(name, T, D, H, E, k, cf, note="", aux_coef=0.01, z_coef=0.001, **options):
    return Case(name, lambda rng: moe.backward_args(rng, T, D, H, E, k, cf, aux_coef, z_coef, **options), note)


EDGE_CASES = [
    *KNOWN,
    _case("E = 1: a dense FFN", 16, 8, 16, 1, 1, None, "gate = 1 always: dw_router is the z-loss term alone"),
    _case("k = E: every expert", 12, 8, 8, 3, 3, None, "renormalised gates over all experts"),
    _case("T < E", 3, 8, 8, 8, 2, 1.0, "C = 1"),
    _case("0 tokens", 0, 8, 8, 4, 2, 1.25, "empty batch: all gradients are zero"),
    Case("ties in the router", _ties, "equal logits: the lower index wins, in the backward as in the forward"),
    _case("tiny capacity, strong aux loss", 64, 8, 8, 4, 2, 0.1,
          "C = 4, aux_coef = 1: f counts 1st choices before dropping", aux_coef=1.0, z_coef=0.01),
    _case("capacity >= T: nothing dropped", 32, 8, 8, 4, 2, 2.0),
    _case("dy = 0: only the auxiliary losses", 32, 8, 8, 4, 2, 1.0,
          "dw1 = dw2 = 0; the router moves by the aux and z losses alone", aux_coef=1.0, z_coef=0.1,
          zero_dy=True),
    _case("no auxiliary losses", 24, 8, 8, 4, 2, 1.25, "aux_coef = z_coef = 0: the task loss alone",
          aux_coef=0.0, z_coef=0.0),
    _case("skewed: expert 0 takes half the assignments", 64, 8, 8, 4, 2, None, "", skew=True),
    _case("Switch: top-1 with capacity", 48, 8, 16, 4, 1, 1.25,
          "the raw top-1 probability is the gate, so the router learns from the task loss"),
    _case("large router logits", 24, 8, 8, 4, 2, 1.25, "a stable softmax and logsumexp",
          router_scale=2.0**12),
    _case("rounded probabilities with capacity", 24, 8, 8, 4, 2, 0.5,
          "expert 0's logit is +-1024: even tokens' other probabilities underflow to 0.0; rank by "
          "logit, or the kept mask (C = 6) and so the gradients differ", saturated=True),
]


def _flops(a) -> float:
    x, w1 = a[0], a[2]
    return moe.backward_flops(x.shape[0], x.shape[1], w1.shape[2], w1.shape[0], x.shape[0] * a[4])


PROBLEM = Problem(
    slug="moe-backward",
    title="MoE layer backward: expert, router and balance-loss gradients",
    difficulty="hard",
    entry="moe_backward",
    edge_cases=EDGE_CASES,
    make_random=_random,
    random_sizes=[16, 200, 1_000],
    bench_sizes=[512, 2_048, 8_192],
    size_of=lambda args: args[0].shape[0],
    size_unit="tokens",
    expected_exponent=1.0,
    check=moe.check_backward,
    oracle="numpy",
    timing_reference="numba",
    forbidden_imports=("torch",),
    describe=moe.describe_layer,
    make_bench=_bench,
    gemm_dtype="float32",  # the grade shows % of this machine's float32 GEMM rate
    flops_of=_flops,  # counts all T*k assignments: exact for the (dropless) speed cases
    limits=Limits(wall_s=30.0, mem_mb=8192),
    tags=("mixture of experts", "seed note Q4-Q7"),
)
