"""sddmm: the sampled dense-dense product, out[p] = (A·Bᵀ)[i, j] (times S's value when `scaled`) for
every stored entry p = (i, j) of a canonical CSR matrix S. Float64 throughout."""
import numpy as np

from harness import known
from harness.spec import Case, Limits, Problem
from harness.types import CSR
from problems._common import generators as gen
from problems._common import sparse

BENCH_D = 64
BENCH_PER_ROW = 16
D_CHOICES = (1, 3, 8, 32, 64, 100)


def _csr(entries: dict, shape, dtype=np.int32) -> CSR:
    """A CSR from {row: [(col, value), ...]}."""
    rows = [r for r, row in entries.items() for _ in row]
    cols = [c for row in entries.values() for c, _ in row]
    vals = [v for row in entries.values() for _, v in row]
    return gen.assemble(np.array(rows), np.array(cols), np.array(vals), shape, idx_dtype=dtype)


def _dense_inputs(S: CSR, rng: np.random.Generator, d: int, scaled: bool) -> tuple:
    m, n = S.shape
    return (S, rng.standard_normal((m, d)), rng.standard_normal((n, d)), scaled)


def _known_args(d: dict) -> tuple:
    """sddmm's arguments from a case of cases.toml."""
    return (sparse.csr_of(d["S"]), np.array(d["A"], dtype=np.float64), np.array(d["B"], dtype=np.float64),
            d["scaled"])


# written out with their answers in cases.toml: the statement's worked example (S is 3x3 with 4
# entries, d = 2), scaled and pattern only
KNOWN = known.cases(__file__, args=_known_args)


def _random(rng: np.random.Generator, size: int) -> tuple:
    """About `size` = nnz·d: d drawn from D_CHOICES, 8 entries per row, more columns than rows
    (so reading S as CSC fails), scaled or not at random."""
    d = int(rng.choice(D_CHOICES))
    rows = max(1, size // (8 * d))
    S = gen.uniform(rng, rows, rows * 3 // 2 + 1, per_row=8)
    return _dense_inputs(S, rng, d, bool(rng.integers(2)))


def _bench(rng: np.random.Generator, size: int) -> tuple:
    """GNN-like: a square uniform random pattern, 16 entries per row, d = 64, pattern only."""
    rows = max(1, size // (BENCH_PER_ROW * BENCH_D))
    return _dense_inputs(gen.uniform(rng, rows, rows, per_row=BENCH_PER_ROW), rng, BENCH_D, False)


def _full_row(rng):
    # row 1 holds every column once (duplicate-free), the others are short or empty
    S = _csr({0: [(3, 1.5)], 1: [(c, float(c) - 2.0) for c in range(6)], 3: [(0, -1.0), (5, 2.0)]}, (4, 6))
    return _dense_inputs(S, rng, 5, True)


def _nan_inf(rng, scaled):
    # S stores an explicit zero at (0, 1) and a NaN at (1, 0); A holds an inf. Scaled: the stored 0
    # times the inf dot product is NaN, the NaN value spreads. Unscaled: S's values are ignored, so
    # the NaN in S must not reach the answer, and entries that never meet the inf stay finite.
    S = _csr({0: [(0, 1.0), (1, 0.0)], 1: [(0, np.nan), (2, 2.0)], 2: [(1, 1.0)]}, (3, 3))
    A = np.array([[np.inf, 1.0], [1.0, 2.0], [0.5, -1.0]])
    B = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 3.0]])
    return (S, A, B, scaled)


def _cancellation(rng):
    # entry (0, 0): 1e16·1 + 1·1 + (-1e16)·1 is 0 or 1 depending on the summation order: both are
    # within rounding of a dot product whose terms are 1e16 in size
    S = _csr({0: [(0, 1.0), (1, 1.0)]}, (1, 2))
    return (S, np.array([[1e16, 1.0, -1e16]]), np.array([[1.0, 1.0, 1.0], [0.5, 0.25, 0.0]]), False)


EDGE_CASES = [
    *KNOWN,
    Case("0 x 0", lambda rng: _dense_inputs(_csr({}, (0, 0)), rng, 3, True), "out has length 0"),
    Case("0 x 4", lambda rng: _dense_inputs(_csr({}, (0, 4)), rng, 2, False), "A has shape (0, 2)"),
    Case("4 x 0", lambda rng: _dense_inputs(_csr({}, (4, 0)), rng, 2, True), "B has shape (0, 2); no entries"),
    Case("empty pattern", lambda rng: _dense_inputs(_csr({}, (5, 6)), rng, 4, True),
         "A and B are full, S stores nothing: out has length 0"),
    Case("d = 0", lambda rng: _dense_inputs(_csr({0: [(1, 2.0)], 2: [(0, 1.0), (2, -3.0)]}, (3, 3)), rng, 0, True),
         "an empty dot product is 0: out is all zeros"),
    Case("d = 1", lambda rng: _dense_inputs(_csr({0: [(1, 2.0)], 1: [(0, 1.0), (2, -1.0)]}, (2, 3)), rng, 1, True),
         "A·Bᵀ is an outer product of two vectors"),
    Case("empty rows", lambda rng: _dense_inputs(_csr({1: [(0, 2.0), (3, -1.0)], 2: [(2, 4.0)], 5: [(1, 1.5)]},
                                                      (7, 4)), rng, 3, True),
         "rows 0, 3, 4 and 6 are empty (the last one too)"),
    Case("a full row", _full_row, "row 1 stores all 6 columns, each once"),
    Case("int64 index input", lambda rng: _dense_inputs(_csr({0: [(1, 1.0)], 2: [(0, 2.0), (2, 3.0)]}, (3, 3),
                                                             np.int64), rng, 4, True),
         "indptr and indices are int64"),
    Case("NaN and inf, scaled", lambda rng: _nan_inf(rng, True),
         "a stored 0 times an inf dot product is NaN; a NaN value spreads"),
    Case("NaN and inf, pattern only", lambda rng: _nan_inf(rng, False),
         "S's values (one of them NaN) are not used; only the inf in A reaches the answer"),
    Case("huge entry and cancellation", _cancellation,
         "tolerance follows each entry's ‖A[i]‖·‖B[j]‖: either rounding of out[0] passes"),
    Case("A has the wrong number of rows", lambda rng: (_csr({0: [(0, 1.0)]}, (2, 3)), np.ones((3, 2)),
                                                        np.ones((3, 2)), True), "must raise ValueError"),
    Case("B has the wrong number of rows", lambda rng: (_csr({0: [(0, 1.0)]}, (2, 3)), np.ones((2, 2)),
                                                        np.ones((2, 2)), False), "must raise ValueError"),
    Case("A and B disagree on d", lambda rng: (_csr({0: [(0, 1.0)]}, (2, 3)), np.ones((2, 2)), np.ones((3, 5)), True),
         "must raise ValueError"),
    Case("B is 1-D", lambda rng: (_csr({0: [(0, 1.0)]}, (2, 3)), np.ones((2, 1)), np.ones(3), True),
         "must raise ValueError"),
    Case("d = 300, rectangular", lambda rng: _dense_inputs(gen.uniform(rng, 30, 70, per_row=9), rng, 300, True),
         "long dot products, more columns than rows"),
    Case("laplacian-2d pattern", lambda rng: _dense_inputs(gen.make("laplacian-2d", rng, 400), rng, 16, False),
         "5-point stencil: neighbouring rows share columns"),
    Case("block-diagonal pattern", lambda rng: _dense_inputs(gen.make("block-diagonal", rng, 256), rng, 8, True)),
    Case("power-law rows", lambda rng: _dense_inputs(gen.make("power-law", rng, 2000), rng, 8, False),
         "a few rows hold most entries"),
]


def tolerance(args) -> np.ndarray:
    """Per entry: the rounding bound of a d-term float64 dot product times one more rounding for
    the scale, 2·(d + 2)·2⁻⁵³·‖A_i‖·‖B_j‖·|s_p| (never below 1e-12 of it). By Cauchy–Schwarz
    ‖A_i‖·‖B_j‖ ≥ Σ_k |A_ik·B_jk|, so any summation order passes; an answer in float32, with a
    missing term or all zeros does not. Non-finite values count as 0 here (they must match exactly)."""
    S, A, B, scaled = args
    rows = np.repeat(np.arange(S.shape[0]), np.diff(S.indptr.astype(np.int64)))
    cols = S.indices.astype(np.int64)

    def norms(M):
        return np.sqrt(np.square(np.where(np.isfinite(M), M, 0.0)).sum(axis=1)) if M.size else np.zeros(len(M))

    scale = norms(A)[rows] * norms(B)[cols]
    if scaled:
        scale = scale * np.where(np.isfinite(S.data), np.abs(S.data), 0.0)
    return sparse.rounding_tolerance(scale, np.full(scale.shape, A.shape[1] + 1))


def _check(args, expected, got):
    return sparse.check_dense_result(got, expected, tolerance(args))


def _describe(args):
    S, A, B, scaled = args
    text = sparse.describe_csr(S)
    if text is None or A.size + B.size > 80:
        return None
    with np.printoptions(precision=4, linewidth=100):
        return f"{text}\nA (shape {A.shape}) =\n{A!r}\nB (shape {B.shape}) =\n{B!r}\nscaled = {scaled}"


def bytes_moved(args) -> float:
    """The bytes model: S's indptr and column indices read once (its values too when scaled), A and
    B read once each, out written once: idx·(nnz + rows + 1) + 8·d·(rows + cols) + 8·nnz (+ 8·nnz).
    A lower bound: a row of B that left the cache since its last use is read again."""
    S, A, B, scaled = args
    m, n = S.shape
    nnz = S.indices.size
    d = A.shape[1] if A.ndim == 2 else 0
    return (S.indices.itemsize * nnz + S.indptr.itemsize * (m + 1) + 8 * d * (m + n) + 8 * nnz
            + (S.data.itemsize * nnz if scaled else 0))


def flops(args) -> float:
    """2·d per entry (d multiplies, d adds), plus one multiply by S's value when scaled."""
    S, A, B, scaled = args
    nnz = S.indices.size
    return 2.0 * nnz * A.shape[1] + (nnz if scaled else 0)


PROBLEM = Problem(
    slug="sddmm",
    title="Sampled dense-dense matrix product (SDDMM)",
    difficulty="medium",
    entry="sddmm",
    edge_cases=EDGE_CASES,
    make_random=_random,
    random_sizes=[10, 300, 3_000, 100_000, 1_000_000],
    bench_sizes=[1_000_000, 10_000_000, 30_000_000, 100_000_000],
    make_bench=_bench,
    size_of=lambda args: args[0].indices.size * (args[1].shape[1] if args[1].ndim == 2 else 1),
    size_unit="nnz·d",
    expected_exponent=1.0,
    check=_check,
    oracle="numpy",
    timing_reference="numba",
    forbidden_imports=("scipy.sparse", "torch", "dgl"),
    allowed_errors=(ValueError,),
    describe=_describe,
    bytes_of=bytes_moved,
    flops_of=flops,
    gemm_dtype="float64",
    limits=Limits(wall_s=30.0, mem_mb=8192),
    tags=("sparse products", "sparse attention", "graph networks"),
)
