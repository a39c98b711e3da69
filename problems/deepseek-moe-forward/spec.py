"""deepseek-moe-forward: a DeepSeekMoE layer, forward pass: shared experts on every token plus
fine-grained routed experts chosen by DeepSeek-V3's router."""
import numpy as np

from harness import known
from harness.spec import Case, Limits, Problem
from problems._common import deepseek, moe

BENCH = dict(D=256, H=64, E=64, n_shared=2, k=6, n_groups=8, top_groups=4)  # fine-grained: small H, many experts


def _experts(d: dict) -> tuple:
    return tuple(np.array(d[name], dtype=np.float32) for name in ("w_gate", "w_up", "w_down"))


def _known_args(d: dict) -> tuple:
    """deepseek_moe_forward's arguments from a case of cases.toml."""
    return (np.array(d["x"], dtype=np.float32), np.array(d["w_router"], dtype=np.float32),
            np.array(d["bias"], dtype=np.float64), _experts(d["shared"]), _experts(d["routed"]),
            d["k"], d["n_groups"], d["top_groups"], d["route_scale"])


# written out with its answer in cases.toml: the statement's worked example (T = 2, D = 2, H = 1, one
# shared and four routed experts in 2 groups, k = 2)
KNOWN = known.cases(__file__, args=_known_args)


def _random(rng: np.random.Generator, T: int) -> tuple:
    E, G, M, k = [(8, 1, 1, 2), (16, 4, 2, 3), (32, 8, 3, 6), (12, 3, 2, 4)][int(rng.integers(4))]
    Ns = int(rng.integers(0, 3))
    scale = [1.0, 2.5][int(rng.integers(2))]
    return deepseek.layer_args(rng, T, 32, 16, E, Ns, k, G, M, scale)


def _bench(rng: np.random.Generator, T: int) -> tuple:
    b = BENCH
    return deepseek.layer_args(rng, T, b["D"], b["H"], b["E"], b["n_shared"], b["k"], b["n_groups"], b["top_groups"])


def _case(name, T, D, H, E, Ns, k, G, M, scale=1.0, note="", **options):
    return Case(name, lambda rng: deepseek.layer_args(rng, T, D, H, E, Ns, k, G, M, scale, **options), note)


def _all_zero_x(rng):
    args = deepseek.layer_args(rng, 12, 8, 8, 8, 1, 2, 4, 2, tied=True)
    args[0][::2] = 0.0  # logits 0: every affinity 1/2, the bias alone decides
    return args


EDGE_CASES = [
    *KNOWN,
    _case("no shared experts", 16, 8, 8, 8, 0, 2, 1, 1, note="Ns = 0: only the routed experts"),
    _case("top-1 routing", 16, 8, 8, 4, 2, 1, 1, 1, 1.5,
          note="k = 1: the single gate normalises to 1, times route_scale"),
    _case("route_scale 2.5 (DeepSeek-V3)", 20, 8, 8, 8, 1, 2, 4, 2, 2.5, "gates sum to 2.5 per token"),
    _case("two experts per group", 20, 8, 8, 8, 1, 2, 4, 2, note="E/G = 2: a group's score is both its experts"),
    _case("k = all experts of the kept groups", 10, 8, 8, 8, 1, 4, 4, 2, note="the kept groups' 4 experts"),
    Case("ties in the router", _all_zero_x,
         "expert 7 copies expert 0's router column and bias, and half the tokens are 0: the lower index wins"),
    _case("skewed: expert 0 on every token", 32, 8, 8, 8, 1, 2, 2, 1, skew=True,
          note="every token's top choice is expert 0 (group 0 always kept)"),
    _case("T < E", 3, 8, 8, 16, 1, 2, 4, 2, note="most routed experts get no token"),
    _case("0 tokens", 0, 8, 8, 8, 1, 2, 4, 2, note="y has shape (0, D)"),
    _case("one token", 1, 8, 8, 8, 2, 2, 4, 2),
    _case("negative biased scores", 16, 8, 8, 16, 1, 3, 4, 2, bias_scale=2.0,
          note="biases of up to -2: excluded groups must not win at score 0"),
    _case("DeepSeek-V3's routing shape", 64, 16, 8, 256, 1, 8, 8, 4, 2.5,
          note="256 routed experts in 8 groups, keep 4, top-8, 1 shared expert, route_scale 2.5"),
]


def _check(args, expected, got):
    return moe.check_forward(args, expected, got)


def _describe(args):
    x, w_router, bias, shared, routed, k, G, M, scale = args
    T, D = x.shape
    E, _, H = routed[0].shape
    text = (f"T={T} tokens, D={D}, H={H}, {shared[0].shape[0]} shared + {E} routed experts in {G} groups "
            f"(keep {M}), k={k}, route_scale={scale}")
    if T * D <= 64:
        with np.printoptions(precision=4, suppress=True, linewidth=120):
            text += f"\nx =\n{x}\nlogits = x @ w_router =\n{x @ w_router}\nbias = {np.asarray(bias)}"
    return text


PROBLEM = Problem(
    slug="deepseek-moe-forward",
    title="DeepSeekMoE layer forward: shared + fine-grained routed experts",
    difficulty="medium",
    entry="deepseek_moe_forward",
    edge_cases=EDGE_CASES,
    make_random=_random,
    random_sizes=[16, 200, 1_000],
    bench_sizes=[512, 2_048, 8_192],
    size_of=lambda args: args[0].shape[0],
    size_unit="tokens",
    expected_exponent=1.0,
    check=_check,
    oracle="numpy",
    timing_reference="numba",
    forbidden_imports=("torch",),
    describe=_describe,
    make_bench=_bench,
    gemm_dtype="float32",  # the grade shows % of this machine's float32 GEMM rate
    flops_of=lambda a: deepseek.forward_flops(a[0].shape[0], a[0].shape[1], a[4][0].shape[2], a[4][0].shape[0],
                                              a[3][0].shape[0], a[5]),
    limits=Limits(wall_s=30.0, mem_mb=8192),
    tags=("mixture of experts", "DeepSeek"),
)
