"""sparse-attention: out = softmax(Q·Kᵀ/√d restricted to a CSR pattern, row by row) · V, float32.

Graded inputs put Q and K on a binary grid (multiples of 1/8) and use d a power of 4, so every score
q·k/√d is exact in float32 whatever the order of summation: all correct implementations see the
same scores, and the checker's tolerance only has to cover the softmax and the weighted sum.
"""
import math

import numpy as np

from harness import known
from harness.spec import Case, Limits, Problem
from harness.types import CSR
from problems._common import attention_patterns as ap
from problems._common import checks, sparse

U32 = float(np.finfo(np.float32).eps) / 2  # unit roundoff of float32
BENCH_WINDOW = 128
BENCH_D = 64
BENCH_L = (1024, 2048, 4096, 8192)
ROW_LEN = BENCH_WINDOW + 1  # keys per interior row of the bench pattern
D_CHOICES = (1, 4, 16, 64)
DV_CHOICES = (1, 3, 8, 64)
MAX_RANDOM_L = 2048  # random cases stay within reach of dense masked attention (L x n scores)
KINDS = ("sliding-window", "causal-window", "window-global", "block-sparse", "bigbird", "random")


def grid(rng: np.random.Generator, shape, scale: float = 1.0) -> np.ndarray:
    """Normal-looking float32 values on multiples of 1/8 in [-4, 4], times a power of two."""
    return (np.clip(np.round(rng.standard_normal(shape) * 8), -32, 32) / 8 * scale).astype(np.float32)


def inputs(rng: np.random.Generator, pattern: CSR, d: int, dv: int, q_scale: float = 1.0) -> tuple:
    L, n = pattern.shape
    return (grid(rng, (L, d), q_scale), grid(rng, (n, d)), rng.standard_normal((n, dv)).astype(np.float32), pattern)


def _known_args(d: dict) -> tuple:
    """sparse_attention's arguments from a case of cases.toml."""
    Q, K, V = (np.array(d[name], dtype=np.float32) for name in ("Q", "K", "V"))
    return Q, K, V, sparse.csr_of(d["pattern"])


# written out with its answer in cases.toml: the statement's worked example (3 queries, 3 keys,
# d = 4, dv = 2; row 1 has no allowed key)
KNOWN = known.cases(__file__, args=_known_args)


def random_pattern(rng: np.random.Generator, kind: str, L: int, w: int) -> CSR:
    """A pattern of kind `kind` over L queries with about w keys per row."""
    if kind == "sliding-window":
        return ap.sliding_window(L, w)
    if kind == "causal-window":
        return ap.sliding_window(L, w, causal=True)
    if kind == "window-global":
        return ap.window_global(L, w, global_tokens=rng.choice(L, size=min(2, L), replace=False))
    if kind == "block-sparse":
        return ap.block_band(L, max(1, w // 3), 3)
    if kind == "bigbird":
        return ap.bigbird(rng, L, block=max(2, w // 8), window_blocks=3, global_blocks=1, random_blocks=2)
    return ap.random_keys(rng, L, L * 3 // 2 + 1, w)  # rectangular: more keys than queries


def _random(rng: np.random.Generator, size: int) -> tuple:
    """About `size` = nnz·(d + dv): a pattern kind at random, d from D_CHOICES, dv from DV_CHOICES."""
    kind = KINDS[int(rng.integers(len(KINDS)))]
    d, dv = int(rng.choice(D_CHOICES)), int(rng.choice(DV_CHOICES))
    entries = max(1, size // (d + dv))
    w = int(rng.choice([4, 16, 64, 128]))
    w = max(2, min(w, int(math.sqrt(entries))))
    L = max(1, entries // (w + 1))
    if L > MAX_RANDOM_L:  # longer rows instead of a longer sequence: the dense peer must fit in memory
        L = MAX_RANDOM_L
        w = max(2, min(L, entries // L))
    return inputs(rng, random_pattern(rng, kind, L, w), d, dv)


def _bench(rng: np.random.Generator, size: int) -> tuple:
    """Longformer-style sliding window of 128 (129 keys per interior row), d = dv = 64."""
    L = max(1, round(size / (ROW_LEN * 2 * BENCH_D)))
    return inputs(rng, ap.sliding_window(L, BENCH_WINDOW), BENCH_D, BENCH_D)


def _empty_rows(rng):
    P = ap.from_mask_rows(np.array([0, 0, 2, 4, 4, 4]), np.array([1, 3, 0, 0, 2, 4]), (6, 5))
    return inputs(rng, P, 4, 3)


def _pattern_zeros(rng):
    Q, K, V, P = inputs(rng, ap.sliding_window(8, 4), 4, 2)
    data = np.ones(P.data.size)
    data[::2] = 0.0  # explicit zeros: still allowed keys (the pattern is structural)
    return Q, K, V, P._replace(data=data)


def _ties(rng):
    Q, K, V, P = inputs(rng, ap.sliding_window(16, 6), 16, 4)
    K[:] = K[0]  # every key the same: each row's scores tie, p is uniform over its keys
    return Q, K, V, P


def _bad(shape_q, shape_k, shape_v, pattern_shape):
    def make(rng):
        P = ap.dense(*pattern_shape)
        return (np.ones(shape_q, np.float32), np.ones(shape_k, np.float32), np.ones(shape_v, np.float32), P)
    return make


def _case(name, kind, L, w, d, dv, note="", **kw):
    return Case(name, lambda rng: inputs(rng, random_pattern(rng, kind, L, w), d, dv, **kw), note)


EDGE_CASES = [
    *KNOWN,
    Case("L = 0", lambda rng: inputs(rng, ap.dense(0, 4), 4, 2), "no queries: out has shape (0, dv)"),
    Case("no keys", lambda rng: inputs(rng, ap.dense(3, 0), 4, 2), "n = 0: every row is empty, out is zeros"),
    Case("empty pattern", lambda rng: inputs(rng, ap.from_ranges(np.zeros(4), np.zeros(4), 5), 4, 2),
         "keys exist but no query may attend any: zeros, not NaN"),
    Case("rows with no allowed key", _empty_rows, "rows 1, 3 and 5 are empty: their output is exactly 0"),
    Case("one key per row", lambda rng: inputs(rng, ap.from_ranges(np.arange(5), np.arange(1, 6), 7), 4, 3),
         "p = 1: out[i] is V[i] exactly"),
    Case("d = 1, dv = 1", lambda rng: inputs(rng, ap.sliding_window(10, 4), 1, 1), "scale 1/√1 = 1"),
    Case("dv != d", lambda rng: inputs(rng, ap.sliding_window(12, 4, causal=True), 16, 3),
         "d = 16 (scale 1/4), dv = 3"),
    Case("pattern stores zeros", _pattern_zeros, "explicit zeros in pattern.data are allowed keys all the same"),
    Case("all scores tie", _ties, "identical keys: each row averages its values"),
    Case("int64 index input", lambda rng: inputs(rng, ap.sliding_window(6, 2)._replace(
        indptr=ap.sliding_window(6, 2).indptr.astype(np.int64),
        indices=ap.sliding_window(6, 2).indices.astype(np.int64)), 4, 2), "indptr and indices are int64"),
    Case("dense pattern", lambda rng: inputs(rng, ap.dense(24), 16, 8), "every pair allowed: ordinary attention"),
    Case("causal", lambda rng: inputs(rng, ap.causal(24), 16, 8), "row i attends keys 0..i"),
    Case("large logits", lambda rng: inputs(rng, ap.sliding_window(40, 16), 16, 4, q_scale=2.0**9),
         "scores in the thousands: exp overflows unless each row's maximum is subtracted first"),
    Case("cross-attention, random keys", lambda rng: inputs(rng, ap.random_keys(rng, 20, 50, 8), 4, 5),
         "L = 20 queries, n = 50 keys, 8 random keys per query (repeats merged)"),
    _case("sliding window", "sliding-window", 300, 32, 16, 16, "|i - j| <= 16"),
    _case("causal window", "causal-window", 300, 32, 16, 16, "i - 32 < j <= i"),
    _case("window + global tokens", "window-global", 300, 16, 16, 8, "Longformer: two global tokens"),
    _case("block-sparse", "block-sparse", 300, 24, 16, 8, "blocks of 8, a band of 3 blocks"),
    _case("BigBird", "bigbird", 320, 64, 16, 8, "window, global and random blocks of 8"),
    Case("K has the wrong width", _bad((3, 4), (5, 3), (5, 2), (3, 5)), "must raise ValueError"),
    Case("V has the wrong number of rows", _bad((3, 4), (5, 4), (4, 2), (3, 5)), "must raise ValueError"),
    Case("pattern has the wrong shape", _bad((3, 4), (5, 4), (5, 2), (5, 3)), "must raise ValueError"),
    Case("d = 0", _bad((3, 0), (5, 0), (5, 2), (3, 5)), "softmax(QKᵀ/√0) is undefined: must raise ValueError"),
]


# -- checking ---------------------------------------------------------------------------
def _row_max(per_key: np.ndarray, pattern: CSR) -> np.ndarray:
    """max over each row's keys of per_key[j] (0 for an empty row)."""
    L = pattern.shape[0]
    out = np.zeros(L)
    indptr = pattern.indptr.astype(np.int64)
    nonempty = np.flatnonzero(indptr[1:] > indptr[:-1])
    if nonempty.size:
        out[nonempty] = np.maximum.reduceat(per_key[pattern.indices.astype(np.int64)], indptr[nonempty])
    return out


def _dyadic_exponent(X: np.ndarray, limit: int = 40) -> int | None:
    """The smallest e with X·2^e all integers (None if there is none up to `limit`)."""
    X = X.astype(np.float64)
    for e in range(limit + 1):
        Y = X * 2.0**e
        if np.all(Y == np.round(Y)):
            return e
    return None


def scores_are_exact(Q: np.ndarray, K: np.ndarray) -> bool:
    """True when every product, partial sum and the 1/√d scaling of q·k is exact in float32: Q and K
    on binary grids with every |partial sum| below 2²⁴ grid units, and d a power of 4."""
    d = Q.shape[1]
    if d == 0 or (d & (d - 1)) or int(math.log2(d)) % 2:
        return False
    eq, ek = _dyadic_exponent(Q), _dyadic_exponent(K)
    if eq is None or ek is None or not Q.size or not K.size:
        return eq is not None and ek is not None
    bound = np.abs(Q.astype(np.float64) * 2.0**eq).sum(axis=1).max() * np.abs(K.astype(np.float64) * 2.0**ek).max()
    return bool(bound < 2**24)


def tolerance(args) -> np.ndarray:
    """Per row i, the float32 error two correct computations may differ by:

        2·u·vmax_i·(4·n_i + 16 + E_i)      u = 2⁻²⁴, n_i = the row's keys, vmax_i = max |V| over them

    4·n_i + 16 covers exp, the two n_i-term sums, up to n_i rescalings of an online softmax, the
    division and the cast. E_i covers the scores' rounding, 0 when they are exact (graded inputs),
    else 8·(d + 2)·‖q_i‖·max_j ‖k_j‖/√d: a score error δ moves the output by at most 2·|δ|·vmax_i.
    An empty row gets 0: its output must be exactly 0."""
    Q, K, V, pattern = args
    n_i = np.diff(pattern.indptr.astype(np.int64)).astype(np.float64)
    V64 = np.abs(V.astype(np.float64))
    vmax = _row_max(V64.max(axis=1, initial=0.0) if V.shape[0] else np.zeros(0), pattern)
    E = np.zeros_like(n_i)
    if not scores_are_exact(Q, K):
        d = Q.shape[1]
        knorm = _row_max(np.linalg.norm(K.astype(np.float64), axis=1), pattern)
        E = 8.0 * (d + 2) * np.linalg.norm(Q.astype(np.float64), axis=1) * knorm / math.sqrt(d)
    tol = 2.0 * U32 * vmax * (4.0 * n_i + 16.0 + E)
    return np.where(n_i > 0, tol, 0.0)[:, None]


def _check(args, expected, got):
    if not isinstance(got, np.ndarray):
        return f"returned {type(got).__name__}; expected a numpy array of shape {expected.shape}"
    if got.shape != expected.shape:
        return f"result has shape {got.shape}, expected {expected.shape}"
    tol = np.broadcast_to(tolerance(args), expected.shape)
    rules = checks.Rules()  # wrong values first, the dtype after
    if got.dtype.kind in "fiu":
        rules.add(checks.VALUES, sparse.compare_dense(got.astype(np.float64), expected.astype(np.float64), tol))
    if got.dtype != np.float32:
        rules.add(checks.DTYPE, f"result dtype must be float32 (the inputs' dtype), got {got.dtype}")
    return rules.report()


def _describe(args):
    Q, K, V, pattern = args
    text = sparse.describe_csr(pattern)
    if text is None or Q.size + K.size + V.size > 120:
        return None
    with np.printoptions(precision=4, linewidth=100):
        return f"pattern: {text}\nQ =\n{Q!r}\nK =\n{K!r}\nV =\n{V!r}"


def bytes_moved(args) -> float:
    """The fused minimum: Q, K and V read once, the pattern's indptr and indices read once (its
    values are never needed), out written once: 4·L·d + 4·n·(d + dv) + idx·(nnz + L + 1) + 4·L·dv."""
    Q, K, V, pattern = args
    L, n = pattern.shape
    nnz = pattern.indices.size
    dv = V.shape[1] if V.ndim == 2 else 0
    return (Q.itemsize * Q.size + K.itemsize * K.size + V.itemsize * V.size
            + pattern.indices.itemsize * nnz + pattern.indptr.itemsize * (L + 1) + 4 * L * dv)


def flops(args) -> float:
    """2·d per allowed pair for the score, 2·dv for its share of the output: 2·nnz·(d + dv).
    The nnz exponentials and the L divisions are not counted."""
    Q, K, V, pattern = args
    return 2.0 * pattern.indices.size * (Q.shape[1] + (V.shape[1] if V.ndim == 2 else 0))


def _size(args) -> float:
    Q, K, V, pattern = args
    return pattern.indices.size * (Q.shape[1] + (V.shape[1] if V.ndim == 2 else 0))


PROBLEM = Problem(
    slug="sparse-attention",
    title="Sparse attention: softmax(QKᵀ/√d) on a CSR pattern, times V",
    difficulty="hard",
    entry="sparse_attention",
    edge_cases=EDGE_CASES,
    make_random=_random,
    random_sizes=[100, 3_000, 30_000, 300_000, 3_000_000],
    bench_sizes=[L * ROW_LEN * 2 * BENCH_D for L in BENCH_L],
    make_bench=_bench,
    size_of=_size,
    size_unit="nnz·(d+dv)",
    expected_exponent=1.0,
    check=_check,
    oracle="numpy",
    timing_reference="numba",
    forbidden_imports=("scipy.sparse", "torch", "jax", "tensorflow"),
    allowed_errors=(ValueError,),
    describe=_describe,
    bytes_of=bytes_moved,
    flops_of=flops,
    gemm_dtype="float32",
    limits=Limits(wall_s=60.0, mem_mb=8192),
    tags=("sparse attention", "sparse products", "long context"),
)
