"""moe-router: top-k gating with capacity, dropping, and the load-balancing and z losses."""
import numpy as np

from harness import known
from harness.spec import Case, Problem
from problems._common import moe

def _random(rng: np.random.Generator, T: int) -> tuple:
    """Random E, k and capacity; logits on a 1/16 grid, so ties turn up at every size."""
    E = int(rng.choice([4, 8, 16]))
    k = int(rng.choice([1, 2, min(4, E)]))
    cf = [None, 1.0, 1.25, 2.0][int(rng.integers(4))]
    return np.round(rng.standard_normal((T, E)) * 32) / 16, k, cf


def _bench(rng: np.random.Generator, T: int) -> tuple:
    return rng.standard_normal((T, 16)), 2, 1.25


def _ties(rng):
    return np.array([[1.0, 3.0, 3.0, 3.0],  # three-way tie for two places: 1 and 2 win
                     [5.0, 5.0, 5.0, 5.0],  # everything tied: 0 and 1
                     [-0.0, 0.0, -1.0, -2.0],  # -0.0 == 0.0: a tie, 0 wins
                     [0.5, 2.0, 0.5, 2.0]]), 2, None


def _huge(k, cf):
    def make(rng):
        return np.array([[1e4, -1e4, 9999.5, 0.0],
                         [-1e4, -1e4, -1e4, -9990.0],
                         [-1e4, 1e4, 1e4, -1e4],
                         [3.0, -1e4, 1e4, 2.0],
                         [1e4, 9998.0, -1e4, 1e4 - 1e-8],  # not a tie: 1e4 - 1e-8 < 1e4
                         [-1e4, 1e4, 0.0, -5.0]]), k, cf  # p = [0, 1, 0, 0] after rounding; 2 ranks 2nd
    return make


def _rounded_ties(rng):
    """Probabilities that round to equal values although the logits differ, with capacity, so
    ranking the computed probabilities (ties to the lower index) keeps different assignments:
    by probability token 0's 2nd choice is expert 1 (exp(-790) == 0.0: p = 0.0 for experts 1-3)
    and token 1's 1st is expert 0 (exp(-1e-17) == 1.0: p = [0.5, 0.5, ...]); by logit they are
    2 and 1. No logit is large enough to overflow a softmax without max-subtraction."""
    return np.array([[0.0, -800.0, -790.0, -795.0],
                     [0.0, 1e-17, -30.0, -40.0],
                     [-1.0, -2.0, 3.0, 0.0],
                     [0.0, 4.0, 1.0, -3.0]]), 2, 0.5


def _skewed(rng):
    z = rng.standard_normal((32, 4))
    z[:, 2] += 10.0  # every token's 1st choice is expert 2
    return z, 2, 1.0


# written out with its answer in cases.toml: the statement's worked example
KNOWN = known.cases(__file__, args=lambda d: (np.array(d["logits"], dtype=np.float64), d["k"],
                                              d.get("capacity_factor")))

EDGE_CASES = [
    *KNOWN,
    Case("ties", _ties, "equal logits: the lower expert index wins (and -0.0 == 0.0)"),
    Case("all logits equal", lambda rng: (np.zeros((6, 4)), 2, None), "every token picks experts 0 and 1"),
    Case("logits of +-1e4, k = 2", _huge(2, None),
         "exp(1e4) overflows: subtract each row's maximum before exp; rank by logit, since "
         "probabilities that underflow to 0.0 are not ties"),
    Case("rounded probabilities with capacity", _rounded_ties,
         "C = 1; exp(-1e-17) == 1.0 and exp(-790) == 0.0 make unequal logits equal probabilities: "
         "ranked by logit, kept = [[T, F], [T, F], [T, T], [F, F]]; ranked by probability, "
         "[[T, F], [F, F], [T, T], [T, F]]"),
    Case("logits of +-1e4, k = 1 with capacity", _huge(1, 1.0),
         "exp(1e4) overflows; the raw top-1 probability is the gate"),
    Case("T < E", lambda rng: (rng.standard_normal((3, 8)), 2, 1.0), "C = ceil(1.0 * 3 * 2 / 8) = 1"),
    Case("k = E", lambda rng: (rng.standard_normal((5, 4)), 4, None), "every expert, gates = the softmax"),
    Case("tiny capacity: most assignments dropped", lambda rng: (rng.standard_normal((64, 4)), 2, 0.05),
         "C = ceil(0.05 * 64 * 2 / 4) = 2: 8 of 128 assignments kept"),
    Case("capacity >= T: nothing dropped", lambda rng: (rng.standard_normal((32, 4)), 2, 2.0),
         "C = 32 = T: no expert can overflow"),
    Case("one expert", lambda rng: (rng.standard_normal((5, 1)), 1, None), "E = 1: gate 1, z_loss = mean(logit**2)"),
    Case("0 tokens", lambda rng: (np.zeros((0, 4)), 2, 1.25), "an empty batch: both losses are 0.0"),
    Case("float32 logits", lambda rng: (rng.standard_normal((50, 8)).astype(np.float32), 2, 1.25),
         "compute in float64 anyway"),
    Case("Switch: top-1 with capacity", lambda rng: (rng.standard_normal((40, 4)) * 2, 1, 1.25),
         "k = 1: the gate is the raw probability, not renormalised to 1"),
    Case("skewed: one expert is everyone's 1st choice", _skewed,
         "C = 16 of 32 1st choices fit; f_i counts all 32 (before dropping)"),
]


def _check(args, expected, got):
    logits, k, cf = args
    return moe.check_routing(np.asarray(logits), k, cf, expected, got)


PROBLEM = Problem(
    slug="moe-router",
    title="MoE router: top-k gating, capacity, balance losses",
    difficulty="medium",
    entry="route",
    edge_cases=EDGE_CASES,
    make_random=_random,
    random_sizes=[10, 100, 1_000, 10_000],
    bench_sizes=[16_384, 65_536, 262_144],
    size_of=lambda args: args[0].shape[0],
    size_unit="tokens",
    expected_exponent=1.0,
    check=_check,
    oracle="numpy",
    timing_reference="numba",
    forbidden_imports=("torch",),
    describe=moe.describe_router,
    make_bench=_bench,
    tags=("mixture of experts", "seed note Q4-Q5"),
)
