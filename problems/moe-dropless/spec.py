"""moe-dropless: a dropless MoE expert layer (permute, grouped GEMMs, un-permute, weighted combine)."""
import numpy as np

from harness import known
from harness.spec import Case, Limits, Problem
from problems._common import dropless, moe

BENCH = dict(D=256, H=512, E=8, k=2)  # as moe-forward's speed cases; benchmarks/ has the big ones


def _known_args(d: dict) -> tuple:
    """moe_dropless's arguments from a case of cases.toml."""
    x, w1, w2 = (np.array(d[name], dtype=np.float32) for name in ("x", "w1", "w2"))
    return x, np.array(d["expert"], dtype=np.int64), np.array(d["gate"], dtype=np.float64), w1, w2


# written out with its answer in cases.toml: the statement's worked example (moe-forward's without a
# capacity, routed top-1 by moe-router's rules)
KNOWN = known.cases(__file__, args=_known_args)


def _random(rng: np.random.Generator, T: int) -> tuple:
    E = int(rng.choice([4, 8, 16]))
    k = int(rng.choice([1, 2, 4]))
    routing = ["router", "router", "uniform", "skewed", "few"][int(rng.integers(5))]
    return dropless.dropless_args(rng, T, 32, 48, E, k, routing)


def _bench(rng: np.random.Generator, T: int) -> tuple:
    return dropless.dropless_args(rng, T, BENCH["D"], BENCH["H"], BENCH["E"], BENCH["k"], "router")


def _case(name, T, D, H, E, k, routing, note="", **options):
    return Case(name, lambda rng: dropless.dropless_args(rng, T, D, H, E, k, routing, **options), note)


EDGE_CASES = [
    *KNOWN,
    _case("T = 0", 0, 8, 8, 4, 2, "router", "y has shape (0, D)"),
    _case("E = 1: a dense FFN", 16, 8, 16, 1, 1, "router", "one expert, gate 1: relu(x @ w1[0]) @ w2[0]"),
    _case("k = E: every expert", 12, 8, 8, 3, 3, "router", "every group holds every token"),
    _case("experts with no tokens", 40, 8, 8, 16, 2, "few", "only experts 0..3 are used: 12 empty groups"),
    _case("all tokens to one expert", 30, 8, 8, 8, 1, "one", "one group of 30, seven empty ones"),
    _case("skewed: expert 0 takes half the assignments", 64, 8, 8, 4, 2, "router",
          "every token's 1st choice is expert 0", skew=True),
    _case("groups of one token", 8, 8, 8, 8, 1, "balanced", "token t alone in expert t"),
    _case("fine-grained: 64 experts, top-6", 40, 8, 8, 64, 6, "uniform", "240 assignments in 64 small groups"),
    _case("Switch: top-1 gates are raw probabilities", 48, 8, 16, 4, 1, "router",
          "the gates do not sum to 1: use them as given"),
]


PROBLEM = Problem(
    slug="moe-dropless",
    title="Dropless MoE layer forward: permute, grouped GEMMs, un-permute and combine",
    difficulty="medium",
    entry="moe_dropless",
    edge_cases=EDGE_CASES,
    make_random=_random,
    random_sizes=[16, 200, 1_000],
    bench_sizes=[512, 2_048, 8_192],
    size_of=lambda args: args[0].shape[0],
    size_unit="tokens",
    expected_exponent=1.0,
    check=moe.check_forward,
    oracle="numpy",
    timing_reference="numba",
    forbidden_imports=("torch",),
    describe=dropless.describe_dropless,
    make_bench=_bench,
    gemm_dtype="float32",  # the grade shows % of this machine's float32 GEMM rate
    flops_of=lambda a: dropless.dropless_forward_flops(a[1].size, a[0].shape[1], a[3].shape[2]),
    limits=Limits(wall_s=30.0, mem_mb=8192),
    tags=("mixture of experts", "dropless", "grouped GEMM", "MegaBlocks"),
)
