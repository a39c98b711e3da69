"""spmv: y = A·x for a canonical CSR matrix A and a dense vector x (float64)."""
import numpy as np

from harness import known
from harness.spec import Case, Limits, Problem
from harness.types import CSR
from problems._common import generators as gen
from problems._common import sparse


def _csr(entries: dict, shape, dtype=np.int32) -> CSR:
    """A CSR from {row: [(col, value), ...]}."""
    rows = [r for r, row in entries.items() for _ in row]
    cols = [c for row in entries.values() for c, _ in row]
    vals = [v for row in entries.values() for _, v in row]
    return gen.assemble(np.array(rows), np.array(cols), np.array(vals), shape, idx_dtype=dtype)


def _with_x(A: CSR, rng: np.random.Generator) -> tuple:
    return (A, rng.standard_normal(A.shape[1]))


def _random(rng: np.random.Generator, size: int) -> tuple:
    """About `size` = nnz + rows: 10 entries per row, more columns than rows (so a transposed
    product cannot pass)."""
    rows = max(1, size // 11)
    return _with_x(gen.uniform(rng, rows, rows * 3 // 2 + 1, per_row=10), rng)


def _bench(rng: np.random.Generator, size: int) -> tuple:
    rows = max(1, size // 11)
    return _with_x(gen.uniform(rng, rows, rows, per_row=10), rng)


def _cancellation(rng):
    # row 0: 1e16 + 1 - 1e16 is 0 or 1 depending on the order of summation; both are within
    # rounding of a row whose |terms| sum to 2e16. Row 1 is ordinary and must be exact.
    A = _csr({0: [(0, 1e16), (1, 1.0), (2, -1e16)], 1: [(0, 0.5), (1, 0.25)], 2: [(2, 3.0)]}, (3, 3))
    return (A, np.ones(3))


def _nan_inf(rng):
    # NaN in A, inf in x, and an explicit zero times inf: IEEE says 0 * inf is NaN
    A = _csr({0: [(0, np.nan), (1, 1.0)], 1: [(2, 2.0)], 2: [(1, 1.0), (2, 0.0)], 3: [(0, 1.0)]}, (4, 3))
    return (A, np.array([1.0, 2.0, np.inf]))


# written out with its answer in cases.toml: the seed note's 4x4 example (the statement's example)
KNOWN = known.cases(__file__, args=lambda d: (sparse.csr_of(d["A"]), np.array(d["x"], dtype=np.float64)))

EDGE_CASES = [
    *KNOWN,
    Case("empty matrix", lambda rng: _with_x(_csr({}, (3, 4)), rng), "no entries: y is all zeros"),
    Case("0 x 0", lambda rng: _with_x(_csr({}, (0, 0)), rng)),
    Case("0 x 5", lambda rng: _with_x(_csr({}, (0, 5)), rng), "y has length 0"),
    Case("5 x 0", lambda rng: _with_x(_csr({}, (5, 0)), rng), "x has length 0, y is five zeros"),
    Case("empty rows", lambda rng: _with_x(_csr({1: [(0, 2.0), (3, -1.0)], 2: [(2, 4.0)], 5: [(1, 1.5)]}, (7, 4)), rng),
         "rows 0, 3, 4 and 6 are empty (the last one too)"),
    Case("one row holds everything", lambda rng: _with_x(gen.uniform(rng, 1, 64, per_row=64), rng)),
    Case("int64 index input",
         lambda rng: _with_x(_csr({0: [(1, 1.0)], 2: [(0, 2.0), (2, 3.0)]}, (3, 3), np.int64), rng),
         "indptr and indices are int64"),
    Case("huge entry and cancellation", _cancellation,
         "tolerance follows each row's sum of |terms|: either rounding of row 0 passes"),
    Case("NaN and inf", _nan_inf, "NaN spreads, inf stays inf, and a stored 0 times inf is NaN"),
    Case("x has the wrong length", lambda rng: (_csr({0: [(0, 1.0)]}, (2, 3)), np.ones(2)),
         "must raise ValueError"),
    Case("laplacian-2d", lambda rng: _with_x(gen.make("laplacian-2d", rng, 400), rng), "5-point stencil"),
    Case("laplacian-3d", lambda rng: _with_x(gen.make("laplacian-3d", rng, 512), rng), "7-point stencil"),
    Case("block-diagonal", lambda rng: _with_x(gen.make("block-diagonal", rng, 256), rng)),
    Case("power-law rows", lambda rng: _with_x(gen.make("power-law", rng, 2000), rng), "a few rows hold most entries"),
]


def _check(args, expected, got):
    A, x = args
    tol = sparse.rounding_tolerance(sparse.abs_product(A, x), np.diff(A.indptr.astype(np.int64)))
    return sparse.check_dense_result(got, expected, tol)


def _describe(args):
    A, x = args
    text = sparse.describe_csr(A)
    if text is None or x.size > 40:
        return None
    with np.printoptions(precision=4, linewidth=100):
        return f"{text}\nx = {x!r}"


def bytes_moved(args) -> float:
    """The bytes model: each stored value and column index read once, indptr once, y written
    once, x read once (12·nnz + 4·(rows+1) + 8·rows + 8·cols for float64 and int32)."""
    A, x = args
    rows, cols = A.shape
    nnz = A.indices.size
    return ((A.data.itemsize + A.indices.itemsize) * nnz + A.indptr.itemsize * (rows + 1)
            + 8 * rows + x.itemsize * cols)


PROBLEM = Problem(
    slug="spmv",
    title="Sparse matrix times vector (SpMV)",
    difficulty="easy",
    entry="spmv",
    edge_cases=EDGE_CASES,
    make_random=_random,
    random_sizes=[10, 100, 1_000, 30_000],
    bench_sizes=[30_000, 300_000, 3_000_000, 10_000_000],
    make_bench=_bench,
    size_of=lambda args: args[0].indices.size + args[0].shape[0],
    size_unit="nnz+rows",
    expected_exponent=1.0,
    check=_check,
    oracle="numpy",
    timing_reference="numba",
    forbidden_imports=("scipy.sparse", "torch"),
    allowed_errors=(ValueError,),
    describe=_describe,
    bytes_of=bytes_moved,
    flops_of=lambda args: 2.0 * args[0].indices.size,
    limits=Limits(wall_s=30.0),
    tags=("sparse products", "seed note Q3"),
)
