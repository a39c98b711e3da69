"""expert-choice: every expert takes its top-C tokens (Zhou et al. 2022), C = ceil(T*c/E)."""
import math

import numpy as np

from harness import known
from harness.spec import Case, Problem
from problems._common import checks

BENCH_E, BENCH_C = 64, 2.0  # the paper's EC-CF2: capacity factor 2


def capacity(T: int, capacity_factor: float, E: int) -> int:
    """The contract's C: ceil(T * capacity_factor / E) evaluated left to right, at most T."""
    return min(T, math.ceil(T * capacity_factor / E))


def probabilities(logits: np.ndarray) -> np.ndarray:
    """softmax over the experts of each token, float64, max-subtracted."""
    z = np.asarray(logits, dtype=np.float64)
    if z.shape[0] == 0:
        return z.copy()
    p = np.exp(z - z.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


def _logits(rng: np.random.Generator, T: int, E: int, dup_frac: float = 0.1) -> np.ndarray:
    """Continuous logits (no accidental near-ties), with a share of rows copied from other rows:
    copies have bit-identical probabilities, real ties that the lower-index rule decides."""
    z = rng.standard_normal((T, E)) * 1.5
    n_dup = int(T * dup_frac)
    if T > 1 and n_dup:
        z[rng.integers(1, T, n_dup)] = z[rng.integers(0, T, n_dup)]
    return z


def _random(rng: np.random.Generator, T: int) -> tuple:
    E = int(rng.choice([2, 4, 8, 16, 64]))
    c = float(rng.choice([0.5, 1.0, 1.25, 2.0, 4.0]))
    return _logits(rng, T, E), c


def _bench(rng: np.random.Generator, T: int) -> tuple:
    return _logits(rng, T, BENCH_E, 0.0), BENCH_C


# written out with its answer in cases.toml: the statement's worked example (6 tokens, 3 experts,
# capacity factor 1)
KNOWN = known.cases(__file__, args=lambda d: (np.array(d["logits"], dtype=np.float64), d["capacity_factor"]),
                    parts=("tokens", "gates", "unassigned"))


def _ties(rng):
    z = np.array([[1.0, 0.0, 2.0, 0.0],
                  [0.0, 1.0, 0.0, 0.0],
                  [1.0, 0.0, 2.0, 0.0],  # a copy of token 0
                  [0.5, 0.5, 0.5, 0.5],
                  [1.0, 0.0, 2.0, 0.0],  # and another
                  [0.0, 1.0, 0.0, 0.0],  # a copy of token 1
                  [0.5, 0.5, 0.5, 0.5]])
    return z, 1.0  # C = ceil(7 / 4) = 2


def _tie_runs(rng):
    A, B, C = [2.0, 0.0], [1.0, 0.0], [0.0, 0.0]  # p[:, 0]: A 0.881 > B 0.731 > C 0.5
    return np.array([C, A, B, A, B, B, A]), 1.25  # C = ceil(7 * 1.25 / 2) = 5: ties at both thresholds


def _huge(rng):
    # each expert has at least C = 2 tokens with a probability near 1 or 1/2; the rest underflow
    # to exactly 0.0, below every threshold
    z = np.array([[1e4, -1e4, -1e4, -1e4],
                  [1e4, 1e4, -1e4, -1e4],
                  [-1e4, 1e4, -1e4, 9999.0],
                  [-1e4, -1e4, 1e4, -1e4],
                  [-1e4, -1e4, 1e4, 1e4],
                  [-1e4, 1e4 - 0.5, -1e4, 1e4],
                  [0.0, 0.0, -1e4, 0.0],
                  [-1e4, -1e4, -1e4, -1e4]])
    return z, 1.0


def _skewed(rng):
    z = rng.standard_normal((40, 4))
    z[:, 0] += 6.0  # every token's favourite is expert 0; expert 0 still takes only C of them
    return z, 1.0


EDGE_CASES = [
    *KNOWN,
    Case("ties between tokens", _ties, "copied rows have equal probabilities: the lower token index wins"),
    Case("runs of tied tokens at the threshold", _tie_runs,
         "expert 0 needs 2 of the 3 tied B tokens (2 and 4), expert 1 needs 1 of the 3 tied A tokens (1)"),
    Case("all logits equal", lambda rng: (np.zeros((9, 3)), 1.0),
         "every probability is 1/3: each expert takes tokens 0, 1, 2 and tokens 3..8 get nothing"),
    Case("capacity evaluation order", lambda rng: (rng.standard_normal((100, 7)), 0.07),
         "100 * 0.07 = 7.000000000000001, / 7 = 1.0000000000000002, ceil = 2 (0.07 / 7 * 100 would give 1)"),
    Case("capacity >= T: every expert takes every token", lambda rng: (rng.standard_normal((12, 4)), 5.0),
         "ceil(12 * 5 / 4) = 15 is capped at T = 12"),
    Case("one token (a decode step)", lambda rng: (rng.standard_normal((1, 8)), 2.0),
         "C = ceil(1 * 2 / 8) = 1: every expert takes the only token, all 8 experts run on it"),
    Case("one expert", lambda rng: (rng.standard_normal((10, 1)), 0.5), "p = 1 everywhere: tokens 0..4"),
    Case("T < E", lambda rng: (rng.standard_normal((3, 8)), 1.0), "C = 1: several experts may pick the same token"),
    Case("one expert is everyone's favourite", _skewed,
         "expert 0's column is large everywhere, but it takes only C = 10; the others choose by their own columns"),
    Case("logits of +-1e4", _huge, "exp(1e4) overflows: subtract each row's maximum; underflowed zeros stay unpicked"),
    Case("float32 logits", lambda rng: (rng.standard_normal((50, 8)).astype(np.float32), 1.25),
         "compute in float64 anyway"),
    Case("0 tokens", lambda rng: (np.zeros((0, 4)), 1.0), "C = 0: tokens and gates have shape (4, 0)"),
    Case("many experts, small capacity", lambda rng: (_logits(rng, 200, 64), 0.5),
         "C = ceil(200 * 0.5 / 64) = 2"),
]


def _check(args, expected, got):
    """Every rule the selection breaks: token lists (range, order, the top C), gates, the
    unassigned list, then the gates' dtype."""
    logits, c = args
    T, E = np.shape(logits)
    C = capacity(T, c, E)
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        return (f"returned {type(got).__name__}; expected ExpertChoice(tokens, gates, unassigned) "
                f"or a plain 3-tuple")
    tokens, gates, unassigned = got
    rules = checks.Rules()
    for problem in (checks.array("tokens", tokens, (E, C), "iu", "an integer dtype"),
                    checks.array("gates", gates, (E, C), "f", "float64"),
                    checks.array("unassigned", unassigned, None, "iu", "an integer dtype", ndim=1)):
        rules.add(checks.STRUCTURE, problem)
    if rules:
        return rules.report()
    in_range = not (C and ((tokens < 0) | (tokens >= T)).any())
    if not in_range:
        rules.add(checks.STRUCTURE, f"tokens holds values outside 0..{T - 1}")
    if C > 1 and (np.diff(tokens, axis=1) <= 0).any():
        e = int(np.flatnonzero((np.diff(tokens, axis=1) <= 0).any(axis=1))[0])
        rules.add(checks.STRUCTURE, f"tokens[{e}] is not strictly ascending: {tokens[e].tolist()[:12]} (each expert "
                                    f"lists its C distinct tokens in ascending token order)")
    if in_range and not rules:
        p = probabilities(logits)
        rules.add(checks.VALUES, checks.top_sets("tokens", p.T, tokens, expected.tokens, what="token",
                                                 owner="expert"))
        rules.add(checks.VALUES, checks.close64("gates", gates, np.take_along_axis(p.T, tokens, axis=1),
                                                rtol=1e-12,
                                                hint="gates[e, i] = p[tokens[e, i], e], the softmax over experts"))
    if in_range:
        taken = np.zeros(T, dtype=bool)
        taken[tokens.reshape(-1)] = True
        want = np.flatnonzero(~taken)
        if unassigned.shape != want.shape or (unassigned != want).any():
            rules.add(checks.VALUES, f"unassigned: got {unassigned.size} tokens {unassigned.tolist()[:10]}, expected "
                                     f"{want.size} {want.tolist()[:10]} (the tokens in no expert's list, ascending)")
    if gates.dtype != np.float64:
        rules.add(checks.DTYPE, f"gates has dtype {gates.dtype}, expected float64 (compute the probabilities in "
                                f"float64)")
    return rules.report()


def _describe(args):
    logits, c = args
    T, E = np.shape(logits)
    text = (f"T={T} tokens, E={E} experts, capacity_factor={c} -> C = min(T, ceil({T} * {c} / {E})) = "
            f"{capacity(T, c, E)}, logits {np.asarray(logits).dtype}")
    if T * E <= 96:
        with np.printoptions(precision=4, linewidth=120, suppress=True):
            text += f"\nlogits =\n{np.asarray(logits)}\np = softmax over experts =\n{probabilities(logits)}"
    return text


PROBLEM = Problem(
    slug="expert-choice",
    title="Expert-choice routing: every expert takes its top-C tokens",
    difficulty="medium",
    entry="expert_choice",
    edge_cases=EDGE_CASES,
    make_random=_random,
    random_sizes=[10, 100, 1_000, 10_000],
    bench_sizes=[4_096, 16_384, 65_536],
    size_of=lambda args: np.shape(args[0])[0],
    size_unit="tokens",
    expected_exponent=1.0,
    check=_check,
    oracle="numpy",
    timing_reference="numba",
    forbidden_imports=("torch",),
    describe=_describe,
    make_bench=_bench,
    # read the logits once (8 B each), write E*C token ids and gates (8 B each)
    bytes_of=lambda a: 8.0 * a[0].size + 16.0 * a[0].shape[1] * capacity(a[0].shape[0], a[1], a[0].shape[1]),
    tags=("mixture of experts", "routing"),
)
