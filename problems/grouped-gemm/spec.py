"""grouped-gemm: Y rows of group g = X rows of group g @ W[g] (the expert GEMMs of a dropless MoE)."""
import numpy as np

from harness import known
from harness.spec import Case, Limits, Problem
from problems._common import dropless

BENCH = dict(D=256, H=512, E=8)  # the grader's speed cases; benchmarks/grouped_gemm_vs_dense.py has bigger ones


def _known_args(d: dict) -> tuple:
    """grouped_gemm's arguments from a case of cases.toml."""
    return (np.array(d["x"], dtype=np.float32), np.array(d["group_sizes"], dtype=np.int64),
            np.array(d["w"], dtype=np.float32))


# written out with its answer in cases.toml: the statement's worked example (4 rows in 3 groups of
# sizes 1, 0, 3)
KNOWN = known.cases(__file__, args=_known_args)


def _random(rng: np.random.Generator, N: int) -> tuple:
    E = int(rng.choice([1, 4, 8, 32]))
    mix = ["uniform", "skewed", "few", "balanced"][int(rng.integers(4))]
    return dropless.grouped_args(rng, N, 32, 48, E, mix)


def _bench(rng: np.random.Generator, N: int) -> tuple:
    return dropless.grouped_args(rng, N, BENCH["D"], BENCH["H"], BENCH["E"], "uniform")


def _case(name, N, D, H, E, mix, note=""):
    return Case(name, lambda rng: dropless.grouped_args(rng, N, D, H, E, mix), note)


def _bad_sum(rng):
    x, sizes, w = dropless.grouped_args(rng, 10, 4, 4, 3, "uniform")
    sizes[0] += 1  # 11 rows claimed, 10 given
    return x, sizes, w


def _negative(rng):
    x, _, w = dropless.grouped_args(rng, 10, 4, 4, 3, "uniform")
    return x, np.array([12, -2, 0], dtype=np.int64), w


EDGE_CASES = [
    *KNOWN,
    _case("N = 0", 0, 8, 8, 4, "uniform", "y has shape (0, H)"),
    _case("E = 1: one dense GEMM", 20, 8, 12, 1, "uniform", "y = x @ w[0]"),
    _case("empty groups", 30, 8, 8, 16, "few", "only groups 0..3 hold rows"),
    _case("one group holds everything", 25, 8, 8, 6, "one", "all rows in group 3: five empty groups"),
    _case("one group holds half", 64, 8, 8, 8, "skewed", "group 0 has 32 rows, the other 7 share 32"),
    _case("groups of one row", 8, 8, 8, 8, "balanced", "eight 1-row GEMMs"),
    _case("more groups than rows", 5, 8, 8, 32, "uniform", "most groups are empty"),
    _case("H != D", 24, 16, 4, 3, "uniform", "a down-projection shape: (n, 16) @ (16, 4)"),
    Case("group sizes that do not add up to N", _bad_sum, "ValueError: the sizes must add up to N"),
    Case("a negative group size", _negative, "ValueError: sizes are >= 0"),
]


PROBLEM = Problem(
    slug="grouped-gemm",
    title="Grouped GEMM: one matrix product per group of rows (dropless MoE experts)",
    difficulty="easy",
    entry="grouped_gemm",
    edge_cases=EDGE_CASES,
    make_random=_random,
    random_sizes=[16, 300, 2_000],
    bench_sizes=[512, 2_048, 8_192],
    size_of=lambda args: args[0].shape[0],
    size_unit="rows",
    expected_exponent=1.0,
    check=dropless.check_grouped,
    oracle="numpy",
    timing_reference="numba",
    forbidden_imports=("torch",),
    allowed_errors=(ValueError,),
    describe=dropless.describe_grouped,
    make_bench=_bench,
    gemm_dtype="float32",  # the grade shows % of this machine's float32 GEMM rate
    flops_of=lambda a: dropless.grouped_flops(a[0].shape[0], a[0].shape[1], a[2].shape[2]),
    limits=Limits(wall_s=30.0, mem_mb=8192),
    tags=("mixture of experts", "dropless", "grouped GEMM"),
)
