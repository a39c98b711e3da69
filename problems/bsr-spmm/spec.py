"""bsr-spmm: Y = A·X for a canonical BSR matrix A (square b x b blocks) and a dense, C-ordered X."""
import numpy as np

from harness import known
from harness.spec import Case, Limits, Problem
from harness.types import BSR
from problems._common import generators as gen
from problems._common import sparse
from problems._common import structured as st

BENCH_B, BENCH_K, BENCH_PER_ROW = 16, 32, 8  # the speed cases: b = 16 (the target's block size)
K_CHOICES = (1, 2, 5, 16, 33)


def _bsr(blocks: dict, shape, b: int, dtype=np.int32) -> BSR:
    """A BSR from {block_row: [(block_col, b x b values), ...]} (block columns in increasing order)."""
    n_brow = shape[0] // b
    counts = [len(blocks.get(i, [])) for i in range(n_brow)]
    indptr = np.zeros(n_brow + 1, dtype=dtype)
    np.cumsum(counts, out=indptr[1:])
    items = [item for i in range(n_brow) for item in blocks.get(i, [])]
    indices = np.array([j for j, _ in items], dtype=dtype)
    data = np.array([v for _, v in items], dtype=np.float64).reshape(len(items), b, b)
    return BSR(indptr, indices, data, tuple(shape))


# written out with its answer in cases.toml: the statement's worked example (a 4 x 6 matrix of
# 2 x 2 blocks, two of them stored)
KNOWN = known.cases(__file__, args=lambda d: (sparse.bsr_of(d["A"]), np.array(d["X"], dtype=np.float64)))


def _with_X(A: BSR, rng: np.random.Generator, k: int) -> tuple:
    return (A, rng.standard_normal((A.shape[1], k)))


def _from(structure: str, rows: int, b: int, k: int):
    return lambda rng: _with_X(st.bsr_from_csr(gen.make(structure, rng, rows), b), rng, k)


def _random(rng: np.random.Generator, size: int) -> tuple:
    """About `size` = (blocks·b² + rows)·k, with b from {1, 2, 4, 8, 16, 32} and k from K_CHOICES;
    rectangular (more block columns than block rows), a random number of blocks per block row."""
    b = int(rng.choice((1,) + st.BLOCK_SIZES))
    k = int(rng.choice(K_CHOICES))
    per_row = int(rng.integers(1, 6))
    n_brow = max(1, size // (k * (per_row * b * b + b)))
    A = st.block_sparse_bsr(rng, n_brow, n_brow * 3 // 2 + 1, b, per_row)
    if n_brow > 2:  # some block rows left empty
        counts = np.diff(A.indptr.astype(np.int64))
        counts[rng.random(n_brow) < 0.2] = 0
        keep = np.repeat(counts > 0, np.diff(A.indptr.astype(np.int64)))
        indptr = np.zeros_like(A.indptr)
        np.cumsum(counts, out=indptr[1:])
        A = BSR(indptr, A.indices[keep], A.data[keep], A.shape)
    return _with_X(A, rng, k)


def _bench(rng: np.random.Generator, size: int) -> tuple:
    n_b = max(1, size // (BENCH_K * (BENCH_PER_ROW * BENCH_B**2 + BENCH_B)))
    return _with_X(st.block_sparse_bsr(rng, n_b, n_b, BENCH_B, BENCH_PER_ROW), rng, BENCH_K)


def _padded_zero_times_inf(rng):
    # block (0, 0) holds one real value, 2.0, at (0, 0): its other three values are padding
    # zeros, and they are stored values: Y[0, 0] = 2·inf = inf, but Y[1, 0] = 0·inf = NaN
    A = _bsr({0: [(0, [[2.0, 0.0], [0.0, 0.0]])]}, (2, 2), 2)
    return (A, np.array([[np.inf, 1.0], [1.0, 1.0]]))


def _nan_and_cancellation(rng):
    A = _bsr({0: [(0, [[1e16, 1.0], [0.5, 0.25]]), (1, [[-1e16, 0.0], [np.nan, 1.0]])]}, (2, 4), 2)
    return (A, np.ones((4, 2)))


EDGE_CASES = [
    *KNOWN,
    Case("no blocks", lambda rng: _with_X(_bsr({}, (4, 6), 2), rng, 3), "Y is all zeros"),
    Case("0 x 0", lambda rng: _with_X(_bsr({}, (0, 0), 2), rng, 2)),
    Case("0 x 4", lambda rng: _with_X(_bsr({}, (0, 4), 2), rng, 2), "Y has shape (0, 2)"),
    Case("4 x 0", lambda rng: _with_X(_bsr({}, (4, 0), 2), rng, 2), "X has shape (0, 2), Y is (4, 2) zeros"),
    Case("b = 1 is CSR", lambda rng: _with_X(st.bsr_from_csr(gen.uniform(rng, 9, 7, 3), 1), rng, 3),
         "1 x 1 blocks: BSR is CSR with a (blocks, 1, 1) data array"),
    Case("b = 32, one dense block", lambda rng: _with_X(st.block_sparse_bsr(rng, 1, 1, 32, 1), rng, 5)),
    Case("k = 1", lambda rng: _with_X(st.block_sparse_bsr(rng, 3, 4, 4, 2), rng, 1), "X has shape (cols, 1)"),
    Case("empty block rows", lambda rng: _with_X(_bsr({1: [(0, np.ones((2, 2))), (2, np.eye(2))], 3: [(1, -np.eye(2))]},
                                                      (10, 6), 2), rng, 3),
         "block rows 0, 2 and 4 (the last) are empty"),
    Case("int64 index input", lambda rng: _with_X(_bsr({0: [(1, np.eye(4))], 1: [(0, np.ones((4, 4)))]}, (8, 8), 4,
                                                       np.int64), rng, 2), "indptr and indices are int64"),
    Case("a padded zero times inf", _padded_zero_times_inf,
         "every value of a stored block takes part: the padding zeros times X's inf give NaN"),
    Case("NaN and cancellation", _nan_and_cancellation,
         "Y[0, :] = 1e16 + 1 - 1e16 (either rounding passes), NaN spreads along Y[1, :]"),
    Case("X has the wrong number of rows", lambda rng: (st.block_sparse_bsr(rng, 2, 3, 2, 1), np.ones((4, 2))),
         "A is 4 x 6, X is 4 x 2: must raise ValueError"),
    Case("X is 1-D", lambda rng: (st.block_sparse_bsr(rng, 2, 3, 2, 1), np.ones(6)), "must raise ValueError"),
    Case("laplacian-2d, b = 4", _from("laplacian-2d", 256, 4, 8), "5-point stencil on a 16 x 16 grid"),
    Case("block-diagonal, b = 8", _from("block-diagonal", 256, 8, 8), "32 x 32 diagonal blocks cut into 8 x 8"),
    Case("power-law rows, b = 8", _from("power-law", 2000, 8, 4), "a few block rows hold most blocks"),
    Case("uniform, b = 4", _from("uniform", 400, 4, 4), "scattered entries: nearly one block per entry"),
]


def abs_product(A: BSR, X: np.ndarray) -> np.ndarray:
    """|A|·|X| with non-finite values counted as 0: the sum of |terms| of each entry of Y
    (scipy does the work; this runs in the trusted grader, on the inputs)."""
    import scipy.sparse as sp

    def finite_abs(a):
        return np.where(np.isfinite(a), np.abs(a), 0.0)

    X = finite_abs(np.asarray(X, dtype=np.float64))
    if not A.indices.size or 0 in X.shape:
        return np.zeros((A.shape[0], X.shape[1]))
    M = sp.bsr_array((finite_abs(A.data), A.indices, A.indptr), shape=A.shape)
    return np.asarray(M @ X, dtype=np.float64)


def n_terms(A: BSR) -> np.ndarray:
    """Terms in each row's sums: b per stored block of its block row."""
    b = A.data.shape[1]
    return np.repeat(np.diff(A.indptr.astype(np.int64)) * b, b)[:, None]


def _check(args, expected, got):
    A, X = args
    return sparse.check_dense_result(got, expected, sparse.rounding_tolerance(abs_product(A, X), n_terms(A)))


def _describe(args):
    A, X = args
    if A.data.size > 64 or A.shape[0] > 12 or A.shape[1] > 12:
        return None
    with np.printoptions(precision=4, linewidth=100, suppress=True):
        return (f"BSR shape={A.shape} b={A.data.shape[1]} indptr={A.indptr.tolist()} indices={A.indices.tolist()}\n"
                f"as a dense matrix:\n{st.bsr_dense(A)}\nX (shape {X.shape}) =\n{X!r}")


def bytes_moved(args) -> float:
    """The bytes model: every stored block value, block index and indptr entry read once, X read
    once, Y written once (8·b²·blocks + 4·blocks + 4·(rows/b + 1) + 8·k·(rows + cols) for
    float64 values and int32 indices)."""
    A, X = args
    rows, cols = A.shape
    k = X.shape[1] if X.ndim == 2 else 1
    return (A.data.nbytes + A.indices.nbytes + A.indptr.nbytes + 8 * k * rows + X.itemsize * k * cols)


def flops(args) -> float:
    """2·b² flops per block per column of X (padding zeros included: they are multiplied)."""
    A, X = args
    return 2.0 * A.data.size * (X.shape[1] if X.ndim == 2 else 1)


def _size(args) -> float:
    A, X = args
    return (A.data.size + A.shape[0]) * (X.shape[1] if X.ndim == 2 else 1)


PROBLEM = Problem(
    slug="bsr-spmm",
    title="Block sparse (BSR) matrix times dense matrix",
    difficulty="medium",
    entry="bsr_spmm",
    edge_cases=EDGE_CASES,
    make_random=_random,
    random_sizes=[10, 300, 3_000, 100_000],
    bench_sizes=[300_000, 3_000_000, 30_000_000, 100_000_000],
    make_bench=_bench,
    size_of=_size,
    size_unit="(b²·blocks+rows)·k",
    expected_exponent=1.0,
    check=_check,
    oracle="numpy",
    timing_reference="numba",
    forbidden_imports=("scipy.sparse", "torch"),
    allowed_errors=(ValueError,),
    describe=_describe,
    bytes_of=bytes_moved,
    gemm_dtype="float64",  # the grade shows % of this machine's float64 GEMM rate
    flops_of=flops,
    limits=Limits(wall_s=30.0),
    tags=("sparse products", "structured sparsity"),
)
