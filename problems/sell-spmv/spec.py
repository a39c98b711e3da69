"""sell-spmv: y = A·x from the SELL-C-sigma form S of a canonical CSR matrix A (float64)."""
import numpy as np

from harness import known
from harness.spec import Case, Limits, Problem
from harness.types import CSR
from problems._common import generators as gen
from problems._common import sparse
from problems._common import structured as st

BENCH_STRUCTURE, BENCH_C, BENCH_SIGMA = "laplacian-3d", 8, 256


def _csr(entries: dict, shape, dtype=np.int32) -> CSR:
    """A CSR from {row: [(col, value), ...]}."""
    rows = [r for r, row in entries.items() for _ in row]
    cols = [c for row in entries.values() for c, _ in row]
    vals = [v for row in entries.values() for _, v in row]
    return gen.assemble(np.array(rows), np.array(cols), np.array(vals), shape, idx_dtype=dtype)


# written out with its answer in cases.toml: the statement's worked example (6 x 6, row lengths
# [1, 3, 0, 2, 2, 1], C = 2, sigma = 4; S is written out too, as the statement shows it)
KNOWN = known.cases(__file__, args=lambda d: (sparse.csr_of(d["A"]), sparse.sell_of(d["S"]),
                                              np.array(d["x"], dtype=np.float64)))


def _args(A: CSR, C: int, sigma: int, rng: np.random.Generator) -> tuple:
    return (A, st.sell_from_csr(A, C, sigma), rng.standard_normal(A.shape[1]))


def _case(name, make_A, C, sigma, note=""):
    return Case(name, lambda rng: _args(make_A(rng), C, sigma, rng), note)


def _random(rng: np.random.Generator, size: int) -> tuple:
    """About `size` = nnz + rows: uniform or power-law rows (more columns than rows), C from
    {1, 2, 4, 8, 32}, sigma from {1, C, 8·C, rows}."""
    rows = max(1, size // 11)
    if rng.random() < 0.5:
        A = gen.uniform(rng, rows, rows * 3 // 2 + 1, per_row=int(rng.integers(1, 20)))
    else:
        A = gen.power_law(rng, rows, rows * 3 // 2 + 1, nnz=10 * rows)
    C = int(rng.choice([1, 2, 4, 8, 32]))
    sigma = int(rng.choice([1, C, 8 * C, rows]))
    return _args(A, C, sigma, rng)


def _bench(rng: np.random.Generator, size: int) -> tuple:
    rows = max(1, size // 8)  # the 7-point stencil: about 7 entries per row
    return _args(gen.make(BENCH_STRUCTURE, rng, rows), BENCH_C, BENCH_SIGMA, rng)


def _int64(rng):
    A = gen.with_index_dtype(gen.uniform(rng, 7, 5, 3), np.int64)
    S = st.sell_from_csr(A, 4, 8)
    S = S._replace(chunk_ptr=S.chunk_ptr.astype(np.int64), chunk_len=S.chunk_len.astype(np.int64),
                   col=S.col.astype(np.int64), perm=S.perm.astype(np.int64))
    return (A, S, rng.standard_normal(5))


def _nan_and_cancellation(rng):
    A = _csr({0: [(0, 1e16), (1, 1.0), (2, -1e16)], 1: [(1, np.nan)], 2: [(0, 0.5), (2, 0.25)]}, (3, 3))
    return (A, st.sell_from_csr(A, 2, 3), np.ones(3))


EDGE_CASES = [
    *KNOWN,
    _case("empty matrix", lambda rng: _csr({}, (3, 4)), 2, 2, "no entries: every chunk has width 0"),
    _case("0 x 0", lambda rng: _csr({}, (0, 0)), 4, 4),
    _case("0 x 5", lambda rng: _csr({}, (0, 5)), 4, 4, "no chunks: y has length 0"),
    _case("5 x 0", lambda rng: _csr({}, (5, 0)), 2, 2, "x has length 0, y is five zeros"),
    _case("rows not a multiple of C", lambda rng: gen.uniform(rng, 10, 6, 3), 4, 4,
          "the last chunk has two lanes past the last row"),
    _case("C larger than the matrix", lambda rng: gen.uniform(rng, 3, 5, 2), 8, 8, "one chunk, five phantom lanes"),
    _case("sigma = 1: no sorting", lambda rng: gen.power_law(rng, 40, 30, 200), 4, 1, "plain sliced ELLPACK"),
    _case("sigma >= rows: one global sort", lambda rng: gen.power_law(rng, 40, 30, 200), 4, 100),
    _case("C = 1, sigma = 1 is CSR", lambda rng: gen.uniform(rng, 12, 9, 4), 1, 1,
          "chunk_ptr = indptr, col = indices, no padding"),
    _case("one long row", lambda rng: _csr({2: [(c, 1.0 + c) for c in range(16)], 5: [(0, 1.0)]}, (8, 16)), 4, 1,
          "the long row's chunk pads three lanes to 16 slots"),
    _case("empty rows and explicit zeros", lambda rng: _csr({1: [(0, 0.0), (2, 4.0)], 4: [(1, 0.0)]}, (7, 3)), 2, 4,
          "stored zeros are entries"),
    Case("int64 index input", _int64, "every index array of A and S is int64"),
    Case("NaN and cancellation", _nan_and_cancellation, "1e16 + 1 - 1e16: either rounding passes; NaN spreads"),
    Case("x has the wrong length", lambda rng: (lambda A: (A, st.sell_from_csr(A, 2, 2), np.ones(2)))(
        _csr({0: [(0, 1.0)]}, (2, 3))), "must raise ValueError"),
    _case("laplacian-2d", lambda rng: gen.make("laplacian-2d", rng, 400), 8, 32, "5-point stencil"),
    _case("laplacian-3d", lambda rng: gen.make("laplacian-3d", rng, 512), 8, 64, "7-point stencil"),
    _case("block-diagonal", lambda rng: gen.make("block-diagonal", rng, 256), 4, 16),
    _case("power-law rows", lambda rng: gen.make("power-law", rng, 2000), 8, 2000, "sorted globally"),
    _case("uniform, C = 32", lambda rng: gen.make("uniform", rng, 1000), 32, 256),
]


TABLE_ROWS = 100_000
TABLE_COLUMNS = [("ELL", None, None), ("C=8, σ=1", 8, 1), ("C=8, σ=256", 8, 256), ("C=8, σ=rows", 8, 0),
                 ("C=32, σ=1", 32, 1), ("C=32, σ=rows", 32, 0)]


def padding_table(rows: int = TABLE_ROWS, seed: int = 0) -> list[tuple[str, list[float]]]:
    """The statement's table: stored slots / nnz for each generator structure (about `rows` rows,
    seeded), for ELL (every row padded to the longest) and SELL-C-sigma (sigma = 0: all rows)."""
    out = []
    for name in gen.STRUCTURES:
        A = gen.make(name, np.random.default_rng(seed), rows)
        lengths = np.diff(A.indptr.astype(np.int64))
        nnz = max(int(lengths.sum()), 1)
        cells = []
        for _, C, sigma in TABLE_COLUMNS:
            if C is None:
                cells.append(A.shape[0] * int(lengths.max(initial=0)) / nnz)
            else:
                cells.append(st.sell_slots(lengths, C, sigma or A.shape[0]) / nnz)
        out.append((name, cells))
    return out


def padding_markdown(table) -> str:
    head = "| structure | " + " | ".join(c for c, _, _ in TABLE_COLUMNS) + " |"
    rule = "|---|" + "---:|" * len(TABLE_COLUMNS)
    lines = [head, rule] + [f"| {name} | " + " | ".join(f"{v:.2f}" for v in cells) + " |" for name, cells in table]
    return "\n".join(lines)


def _check(args, expected, got):
    A, S, x = args
    tol = sparse.rounding_tolerance(sparse.abs_product(A, x), np.diff(A.indptr.astype(np.int64)))
    return sparse.check_dense_result(got, expected, tol)


def _describe(args):
    A, S, x = args
    text = sparse.describe_csr(A)
    if text is None or S.data.size > 64:
        return None
    with np.printoptions(precision=4, linewidth=100):
        return (f"{text}\nSELL C={S.C} sigma={S.sigma}: chunk_ptr={S.chunk_ptr.tolist()} "
                f"chunk_len={S.chunk_len.tolist()} perm={S.perm.tolist()}\n  col={S.col.tolist()}\n"
                f"  data={np.round(S.data, 4).tolist()}\nx = {x!r}")


def bytes_moved(args) -> float:
    """The bytes model of a SELL kernel: every slot (padding included) read once, value and
    column; chunk_ptr, chunk_len and perm once; x read once, y written once
    (12·slots + 4·(2·chunks + 1) + 4·rows + 8·rows + 8·cols with int32 indices)."""
    A, S, x = args
    rows, cols = S.shape
    return (S.data.nbytes + S.col.nbytes + S.chunk_ptr.nbytes + S.chunk_len.nbytes + S.perm.nbytes
            + 8 * rows + x.itemsize * cols)


PROBLEM = Problem(
    slug="sell-spmv",
    title="SpMV in SELL-C-sigma (sliced ELLPACK with sorting)",
    difficulty="medium",
    entry="sell_spmv",
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
    tags=("sparse products", "structured sparsity"),
)
