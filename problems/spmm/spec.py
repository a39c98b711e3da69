"""spmm: Y = A·X for a canonical CSR matrix A and a dense, C-ordered X of shape (cols, k)."""
import numpy as np

from harness import known
from harness.spec import Case, Limits, Problem
from harness.types import CSR
from problems._common import generators as gen
from problems._common import sparse

BENCH_K = 16
K_CHOICES = (1, 2, 5, 16, 33, 64)


def _csr(entries: dict, shape, dtype=np.int32) -> CSR:
    """A CSR from {row: [(col, value), ...]}."""
    rows = [r for r, row in entries.items() for _ in row]
    cols = [c for row in entries.values() for c, _ in row]
    vals = [v for row in entries.values() for _, v in row]
    return gen.assemble(np.array(rows), np.array(cols), np.array(vals), shape, idx_dtype=dtype)


def _with_X(A: CSR, rng: np.random.Generator, k: int) -> tuple:
    return (A, rng.standard_normal((A.shape[1], k)))


def _random(rng: np.random.Generator, size: int) -> tuple:
    """About `size` = (nnz + rows)·k with k drawn from 1..64; 10 entries per row, more
    columns than rows."""
    k = int(rng.choice(K_CHOICES))
    rows = max(1, size // (11 * k))
    return _with_X(gen.uniform(rng, rows, rows * 3 // 2 + 1, per_row=10), rng, k)


def _bench(rng: np.random.Generator, size: int) -> tuple:
    rows = max(1, size // (11 * BENCH_K))
    return _with_X(gen.uniform(rng, rows, rows, per_row=10), rng, BENCH_K)


def _cancellation(rng):
    # row 0, column 0: 1e16 + 1 - 1e16 is 0 or 1 depending on the summation order; column 1 of
    # the same row is ordinary and must be exact
    A = _csr({0: [(0, 1e16), (1, 1.0), (2, -1e16)], 1: [(1, 0.25)]}, (2, 3))
    return (A, np.array([[1.0, 0.5], [1.0, 2.0], [1.0, 0.0]]))


def _nan_inf(rng):
    # NaN in A, inf in X, and a stored 0 times inf (NaN under IEEE)
    A = _csr({0: [(0, np.nan)], 1: [(1, 2.0)], 2: [(0, 1.0), (1, 0.0)]}, (3, 2))
    return (A, np.array([[1.0, 2.0, 3.0], [np.inf, 1.0, -1.0]]))


# written out with its answer in cases.toml: the seed note's 4x4 example (the statement's example)
KNOWN = known.cases(__file__, args=lambda d: (sparse.csr_of(d["A"]), np.array(d["X"], dtype=np.float64)))

EDGE_CASES = [
    *KNOWN,
    Case("empty matrix", lambda rng: _with_X(_csr({}, (3, 4)), rng, 2), "no entries: Y is all zeros"),
    Case("0 x 0", lambda rng: _with_X(_csr({}, (0, 0)), rng, 3)),
    Case("0 x 5", lambda rng: _with_X(_csr({}, (0, 5)), rng, 2), "Y has shape (0, 2)"),
    Case("5 x 0", lambda rng: _with_X(_csr({}, (5, 0)), rng, 2), "X has shape (0, 2), Y is (5, 2) zeros"),
    Case("k = 1", lambda rng: _with_X(_csr({0: [(1, 2.0)], 1: [(0, 1.0), (2, -1.0)]}, (2, 3)), rng, 1),
         "X is a single column, shape (cols, 1)"),
    Case("empty rows",
         lambda rng: _with_X(_csr({1: [(0, 2.0), (3, -1.0)], 2: [(2, 4.0)], 5: [(1, 1.5)]}, (7, 4)), rng, 3),
         "rows 0, 3, 4 and 6 are empty (the last one too)"),
    Case("int64 index input",
         lambda rng: _with_X(_csr({0: [(1, 1.0)], 2: [(0, 2.0), (2, 3.0)]}, (3, 3), np.int64), rng, 4),
         "indptr and indices are int64"),
    Case("huge entry and cancellation", _cancellation,
         "tolerance follows each entry's sum of |terms|: either rounding of Y[0, 0] passes"),
    Case("NaN and inf", _nan_inf, "NaN spreads, inf stays inf, and a stored 0 times inf is NaN"),
    Case("X has the wrong number of rows", lambda rng: (_csr({0: [(0, 1.0)]}, (2, 3)), np.ones((2, 4))),
         "must raise ValueError"),
    Case("X is 1-D", lambda rng: (_csr({0: [(0, 1.0)]}, (2, 3)), np.ones(3)), "must raise ValueError (use spmv)"),
    Case("k = 64", lambda rng: _with_X(gen.uniform(rng, 40, 30, per_row=6), rng, 64)),
    Case("laplacian-2d", lambda rng: _with_X(gen.make("laplacian-2d", rng, 400), rng, 8), "5-point stencil"),
    Case("laplacian-3d", lambda rng: _with_X(gen.make("laplacian-3d", rng, 512), rng, 8), "7-point stencil"),
    Case("block-diagonal", lambda rng: _with_X(gen.make("block-diagonal", rng, 256), rng, 8)),
    Case("power-law rows", lambda rng: _with_X(gen.make("power-law", rng, 2000), rng, 8),
         "a few rows hold most entries"),
]


def _check(args, expected, got):
    A, X = args
    n_terms = np.diff(A.indptr.astype(np.int64))[:, None]
    return sparse.check_dense_result(got, expected, sparse.rounding_tolerance(sparse.abs_product(A, X), n_terms))


def _describe(args):
    A, X = args
    text = sparse.describe_csr(A)
    if text is None or X.size > 64:
        return None
    with np.printoptions(precision=4, linewidth=100):
        return f"{text}\nX (shape {X.shape}) =\n{X!r}"


def bytes_moved(args) -> float:
    """The bytes model: each stored value and column index read once, indptr once, X read
    once, Y written once (12·nnz + 4·(rows+1) + 8·k·rows + 8·k·cols for float64 and int32)."""
    A, X = args
    rows, cols = A.shape
    k = X.shape[1] if X.ndim == 2 else 1
    nnz = A.indices.size
    return ((A.data.itemsize + A.indices.itemsize) * nnz + A.indptr.itemsize * (rows + 1)
            + 8 * k * rows + X.itemsize * k * cols)


def _size(args) -> float:
    A, X = args
    k = X.shape[1] if X.ndim == 2 else 1
    return (A.indices.size + A.shape[0]) * k


PROBLEM = Problem(
    slug="spmm",
    title="Sparse matrix times dense matrix (SpMM)",
    difficulty="medium",
    entry="spmm",
    edge_cases=EDGE_CASES,
    make_random=_random,
    random_sizes=[10, 300, 3_000, 100_000],
    bench_sizes=[300_000, 3_000_000, 30_000_000],
    make_bench=_bench,
    size_of=_size,
    size_unit="(nnz+rows)·k",
    expected_exponent=1.0,
    check=_check,
    oracle="numpy",
    timing_reference="numba",
    forbidden_imports=("scipy.sparse", "torch"),
    allowed_errors=(ValueError,),
    describe=_describe,
    bytes_of=bytes_moved,
    gemm_dtype="float64",  # the grade shows % of this machine's float64 GEMM rate
    flops_of=lambda args: 2.0 * args[0].indices.size * (args[1].shape[1] if args[1].ndim == 2 else 1),
    limits=Limits(wall_s=30.0),
    tags=("sparse products", "seed note Q3"),
)
