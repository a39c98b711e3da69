"""moe-dispatch: the permutation that groups top-k assignments by expert (dropless MoE)."""
import numpy as np

from harness import known
from harness.spec import Case, Limits, Problem
from problems._common import dropless

BENCH = dict(E=64, k=2)  # top-2 over 64 experts: the permutation of a fine-grained MoE layer


# written out with its answer in cases.toml: the statement's worked example (4 tokens, top-2 over 4
# experts, expert 3 unused)
KNOWN = known.cases(__file__, args=lambda d: (np.array(d["expert"], dtype=np.int64), d["num_experts"]),
                    parts=("order", "counts", "offsets", "inverse"))


def _random(rng: np.random.Generator, n: int) -> tuple:
    """About n assignments: E and k drawn, T = n // k, a random mix of routings."""
    E = int(rng.choice([1, 3, 8, 64, 256]))
    k = int(rng.choice([k for k in (1, 2, 4, 8) if k <= E]))
    mix = ["uniform", "skewed", "few", "balanced"][int(rng.integers(4))]
    return dropless.assignments(rng, max(1, n // k), E, k, mix), E


def _bench(rng: np.random.Generator, n: int) -> tuple:
    return dropless.assignments(rng, n // BENCH["k"], BENCH["E"], BENCH["k"], "uniform"), BENCH["E"]


def _case(name, T, E, k, mix, note=""):
    return Case(name, lambda rng: (dropless.assignments(rng, T, E, k, mix), E), note)


def _int32_ids(rng):
    expert, E = dropless.assignments(rng, 40, 8, 2, "uniform"), 8
    return expert.astype(np.int32), E


def _out_of_range(rng):
    expert = dropless.assignments(rng, 12, 4, 2, "uniform")
    expert[7, 1] = 4  # E = 4: ids are 0..3
    return expert, 4


def _negative(rng):
    expert = dropless.assignments(rng, 6, 4, 1, "uniform")
    expert[2, 0] = -1
    return expert, 4


EDGE_CASES = [
    *KNOWN,
    _case("T = 0", 0, 4, 2, "uniform", "order has length 0, counts are zeros, offsets all 0, inverse (0, k)"),
    _case("one token", 1, 8, 3, "uniform", "three groups of one assignment, five empty ones"),
    _case("E = 1", 10, 1, 1, "uniform", "the identity permutation"),
    _case("k = E: every token picks every expert", 9, 4, 4, "uniform",
          "each expert's group is all 9 tokens in token order, whatever slot the expert took"),
    _case("all tokens to one expert", 30, 8, 1, "one", "one group of 30, seven empty groups"),
    _case("experts with no tokens", 40, 16, 2, "few", "only experts 0..3 are used: 12 empty groups at the end"),
    _case("skewed: expert 0 is every token's 1st choice", 50, 8, 2, "skewed",
          "expert 0's group holds every token once"),
    Case("int32 expert ids", _int32_ids, "int32 or int64 outputs whatever the input's integer dtype"),
    _case("many experts, few tokens", 20, 256, 8, "uniform", "most groups are empty"),
    Case("an expert id >= E", _out_of_range, "ValueError: ids must lie in [0, E)"),
    Case("a negative expert id", _negative, "ValueError: ids must lie in [0, E)"),
]


PROBLEM = Problem(
    slug="moe-dispatch",
    title="Dropless MoE dispatch: group top-k assignments by expert (a counting sort)",
    difficulty="easy",
    entry="moe_dispatch",
    edge_cases=EDGE_CASES,
    make_random=_random,
    random_sizes=[64, 2_000, 50_000],
    bench_sizes=[65_536, 262_144, 1_048_576],
    size_of=lambda args: args[0].size,
    size_unit="assignments",
    expected_exponent=1.0,
    check=dropless.check_dispatch,
    oracle="numpy",
    timing_reference="numba",
    forbidden_imports=("torch",),
    allowed_errors=(ValueError,),
    describe=dropless.describe_dispatch,
    make_bench=_bench,
    bytes_of=lambda a: dropless.dispatch_bytes(a[0].size, a[1], a[0].itemsize),
    limits=Limits(wall_s=20.0),
    tags=("mixture of experts", "dropless", "counting sort", "permutation"),
)
