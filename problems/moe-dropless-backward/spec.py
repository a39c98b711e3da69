"""moe-dropless-backward: gradients of a dropless MoE expert layer (dx, dgate, dw1, dw2)."""
import numpy as np

from harness import known
from harness.spec import Case, Limits, Problem
from problems._common import dropless

BENCH = dict(D=256, H=512, E=8, k=2)


def _known_args(d: dict) -> tuple:
    """moe_dropless_backward's arguments from a case of cases.toml."""
    x, w1, w2, dy = (np.array(d[name], dtype=np.float32) for name in ("x", "w1", "w2", "dy"))
    return x, np.array(d["expert"], dtype=np.int64), np.array(d["gate"], dtype=np.float64), w1, w2, dy


# written out with its answer in cases.toml: the statement's worked example (moe-dropless's, with
# dy = 1)
KNOWN = known.cases(__file__, args=_known_args, parts=("dx", "dgate", "dw1", "dw2"))


def _random(rng: np.random.Generator, T: int) -> tuple:
    E = int(rng.choice([4, 8, 16]))
    k = int(rng.choice([1, 2, 4]))
    routing = ["router", "router", "uniform", "skewed", "few"][int(rng.integers(5))]
    return dropless.dropless_backward_args(rng, T, 32, 48, E, k, routing)


def _bench(rng: np.random.Generator, T: int) -> tuple:
    return dropless.dropless_backward_args(rng, T, BENCH["D"], BENCH["H"], BENCH["E"], BENCH["k"], "router")


def _case(name, T, D, H, E, k, routing, note="", **options):
    return Case(name, lambda rng: dropless.dropless_backward_args(rng, T, D, H, E, k, routing, **options), note)


EDGE_CASES = [
    *KNOWN,
    _case("T = 0", 0, 8, 8, 4, 2, "router", "dx (0, D), dgate (0, k), dw1 and dw2 zeros"),
    _case("E = 1: a dense FFN", 16, 8, 16, 1, 1, "router"),
    _case("k = E: every expert", 12, 8, 8, 3, 3, "router"),
    _case("experts with no tokens", 40, 8, 8, 16, 2, "few", "twelve experts get no tokens: their dw1, dw2 are 0"),
    _case("all tokens to one expert", 30, 8, 8, 8, 1, "one"),
    _case("skewed: expert 0 takes half the assignments", 64, 8, 8, 4, 2, "router", skew=True),
    _case("groups of one token", 8, 8, 8, 8, 1, "balanced"),
    _case("fine-grained: 64 experts, top-6", 40, 8, 8, 64, 6, "uniform"),
    _case("zero rows of x: relu'(0) = 0", 24, 8, 8, 4, 2, "uniform",
          "every third x row is 0, so its pre-activations are exact zeros", zero_rows=True),
    _case("Switch: top-1 gates are raw probabilities", 48, 8, 16, 4, 1, "router"),
]


PROBLEM = Problem(
    slug="moe-dropless-backward",
    title="Dropless MoE layer backward: dx, gate gradients and per-expert weight gradients",
    difficulty="hard",
    entry="moe_dropless_backward",
    edge_cases=EDGE_CASES,
    make_random=_random,
    random_sizes=[16, 200, 1_000],
    bench_sizes=[512, 2_048, 8_192],
    size_of=lambda args: args[0].shape[0],
    size_unit="tokens",
    expected_exponent=1.0,
    check=dropless.check_dropless_backward,
    oracle="numpy",
    timing_reference="numba",
    forbidden_imports=("torch",),
    describe=dropless.describe_dropless,
    make_bench=_bench,
    gemm_dtype="float32",  # the grade shows % of this machine's float32 GEMM rate
    flops_of=lambda a: dropless.dropless_backward_flops(a[1].size, a[0].shape[1], a[3].shape[2]),
    limits=Limits(wall_s=30.0, mem_mb=8192),
    tags=("mixture of experts", "dropless", "grouped GEMM", "backward"),
)
