"""grouped-gemm-backward: dX and dW of a grouped GEMM (the expert weight gradients of a dropless MoE)."""
import numpy as np

from harness import known
from harness.spec import Case, Limits, Problem
from problems._common import dropless

BENCH = dict(D=256, H=512, E=8)


def _known_args(d: dict) -> tuple:
    """grouped_gemm_backward's arguments from a case of cases.toml."""
    return (np.array(d["x"], dtype=np.float32), np.array(d["group_sizes"], dtype=np.int64),
            np.array(d["w"], dtype=np.float32), np.array(d["dy"], dtype=np.float32))


# written out with its answer in cases.toml: the statement's worked example (grouped-gemm's, with
# dy = 1)
KNOWN = known.cases(__file__, args=_known_args, parts=("dx", "dw"))


def _random(rng: np.random.Generator, N: int) -> tuple:
    E = int(rng.choice([1, 4, 8, 32]))
    mix = ["uniform", "skewed", "few", "balanced"][int(rng.integers(4))]
    return dropless.grouped_backward_args(rng, N, 32, 48, E, mix)


def _bench(rng: np.random.Generator, N: int) -> tuple:
    return dropless.grouped_backward_args(rng, N, BENCH["D"], BENCH["H"], BENCH["E"], "uniform")


def _case(name, N, D, H, E, mix, note=""):
    return Case(name, lambda rng: dropless.grouped_backward_args(rng, N, D, H, E, mix), note)


def _bad_sum(rng):
    x, sizes, w, dy = dropless.grouped_backward_args(rng, 10, 4, 4, 3, "uniform")
    sizes[-1] -= 1  # 9 rows claimed, 10 given
    return x, sizes, w, dy


EDGE_CASES = [
    *KNOWN,
    _case("N = 0", 0, 8, 8, 4, "uniform", "dx has shape (0, D); dw is all zeros"),
    _case("E = 1: one dense GEMM", 20, 8, 12, 1, "uniform", "dx = dy @ w[0].T, dw[0] = x.T @ dy"),
    _case("empty groups", 30, 8, 8, 16, "few", "twelve groups get no rows: their dw must be zeros"),
    _case("one group holds everything", 25, 8, 8, 6, "one", "dw is zero except for group 3"),
    _case("one group holds half", 64, 8, 8, 8, "skewed"),
    _case("groups of one row", 8, 8, 8, 8, "balanced", "dw[g] is the outer product of one x row and one dy row"),
    _case("more groups than rows", 5, 8, 8, 32, "uniform"),
    _case("H != D", 24, 16, 4, 3, "uniform", "dx is (24, 16), dw is (3, 16, 4)"),
    Case("group sizes that do not add up to N", _bad_sum, "ValueError"),
]


PROBLEM = Problem(
    slug="grouped-gemm-backward",
    title="Grouped GEMM backward: dX and per-group dW",
    difficulty="easy",
    entry="grouped_gemm_backward",
    edge_cases=EDGE_CASES,
    make_random=_random,
    random_sizes=[16, 300, 2_000],
    bench_sizes=[512, 2_048, 8_192],
    size_of=lambda args: args[0].shape[0],
    size_unit="rows",
    expected_exponent=1.0,
    check=dropless.check_grouped_backward,
    oracle="numpy",
    timing_reference="numba",
    forbidden_imports=("torch",),
    allowed_errors=(ValueError,),
    describe=dropless.describe_grouped,
    make_bench=_bench,
    gemm_dtype="float32",  # the grade shows % of this machine's float32 GEMM rate
    flops_of=lambda a: 2 * dropless.grouped_flops(a[0].shape[0], a[0].shape[1], a[2].shape[2]),
    limits=Limits(wall_s=30.0, mem_mb=8192),
    tags=("mixture of experts", "dropless", "grouped GEMM", "backward"),
)
