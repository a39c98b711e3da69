"""moe-forward: a top-k Mixture-of-Experts FFN layer, forward pass."""
import numpy as np

from harness import known
from harness.spec import Case, Limits, Problem
from problems._common import moe

BENCH = dict(D=256, H=512, E=8, k=2)  # the grader's speed cases (benchmarks/ has the big one)


def _random(rng: np.random.Generator, T: int) -> tuple:
    E = int(rng.choice([4, 8]))
    k = int(rng.choice([1, 2]))
    cf = [None, 1.0, 1.25][int(rng.integers(3))]
    return moe.forward_args(rng, T, 32, 48, E, k, cf)


def _bench(rng: np.random.Generator, T: int) -> tuple:
    return moe.forward_args(rng, T, BENCH["D"], BENCH["H"], BENCH["E"], BENCH["k"], None)


def _known_args(d: dict) -> tuple:
    """moe_forward's arguments from a case of cases.toml."""
    x, w_router, w1, w2 = (np.array(d[name], dtype=np.float32) for name in ("x", "w_router", "w1", "w2"))
    return x, w_router, w1, w2, d["k"], d.get("capacity_factor")


# written out with its answer in cases.toml: the statement's worked example (3 tokens, D = H = 2,
# E = 2 experts, k = 1, capacity factor 0.5)
KNOWN = known.cases(__file__, args=_known_args)


def _ties(rng):
    x, w_router, w1, w2, k, cf = moe.forward_args(rng, 16, 8, 8, 4, 2, 1.0, tied_columns=True)
    x[::3] = 0.0  # every logit 0: experts 0 and 1
    return x, w_router, w1, w2, k, cf


def _case(name, T, D, H, E, k, cf, note="", **options):
    return Case(name, lambda rng: moe.forward_args(rng, T, D, H, E, k, cf, **options), note)


EDGE_CASES = [
    *KNOWN,
    _case("E = 1: a dense FFN", 16, 8, 16, 1, 1, None, "one expert, gate 1: relu(x @ w1[0]) @ w2[0]"),
    _case("k = E: every expert", 12, 8, 8, 3, 3, None, "gates are the whole softmax"),
    _case("T < E", 3, 8, 8, 8, 2, 1.0, "C = 1"),
    _case("0 tokens", 0, 8, 8, 4, 2, 1.25, "y has shape (0, D)"),
    Case("ties in the router", _ties, "expert 3's logits copy expert 0's, and some tokens have x = 0: "
                                      "equal logits, the lower index wins"),
    _case("tiny capacity: most assignments dropped", 64, 8, 8, 4, 2, 0.1,
          "C = 4: tokens with no kept assignment output exact zeros"),
    _case("capacity >= T: nothing dropped", 32, 8, 8, 4, 2, 2.0, "the same y as with no capacity"),
    _case("skewed: expert 0 takes half the assignments", 64, 8, 8, 4, 2, None,
          "every token's 1st choice is expert 0", skew=True),
    _case("Switch: top-1 with capacity", 48, 8, 16, 4, 1, 1.25, "the gate is the raw top-1 probability"),
    _case("large router logits", 24, 8, 8, 4, 2, 1.25, "logits in the thousands: a stable softmax",
          router_scale=2.0**12),
    _case("rounded probabilities with capacity", 24, 8, 8, 4, 2, 0.5,
          "expert 0's logit is +-1024: on even tokens the other probabilities underflow to 0.0, so "
          "only ranking by logit finds their true 2nd choice; with C = 6 that changes which odd "
          "tokens keep their 2nd choice", saturated=True),
]


PROBLEM = Problem(
    slug="moe-forward",
    title="MoE layer forward: route, dispatch, expert GEMMs, combine",
    difficulty="medium",
    entry="moe_forward",
    edge_cases=EDGE_CASES,
    make_random=_random,
    random_sizes=[16, 200, 1_000],
    bench_sizes=[512, 2_048, 8_192],
    size_of=lambda args: args[0].shape[0],
    size_unit="tokens",
    expected_exponent=1.0,
    check=moe.check_layer_forward,
    oracle="numpy",
    timing_reference="numba",
    forbidden_imports=("torch",),
    describe=moe.describe_layer,
    make_bench=_bench,
    # counts all T*k assignments: exact for the (dropless) speed cases
    gemm_dtype="float32",  # the grade shows % of this machine's float32 GEMM rate
    flops_of=lambda a: moe.forward_flops(a[0].shape[0], a[0].shape[1], a[2].shape[2], a[2].shape[0],
                                         a[0].shape[0] * a[4]),
    limits=Limits(wall_s=30.0, mem_mb=8192),
    tags=("mixture of experts", "seed note Q4-Q6"),
)
