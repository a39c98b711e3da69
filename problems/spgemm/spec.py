"""spgemm: C = A·B for canonical CSR matrices A and B, returned as a canonical CSR."""
import numpy as np

from harness import known
from harness.spec import Case, Limits, Problem
from harness.types import CSR
from problems._common import generators as gen
from problems._common import sparse

PER_ROW = 8  # entries per row of the random and benchmark matrices


def _csr(entries: dict, shape, dtype=np.int32) -> CSR:
    """A CSR from {row: [(col, value), ...]}."""
    rows = [r for r, row in entries.items() for _ in row]
    cols = [c for row in entries.values() for c, _ in row]
    vals = [v for row in entries.values() for _, v in row]
    return gen.assemble(np.array(rows), np.array(cols), np.array(vals), shape, idx_dtype=dtype)


def products(A: CSR, B: CSR) -> int:
    """Multiplications Gustavson's algorithm does: Σ over A's entries (i, k) of nnz(B row k)
    (entries whose k is not a row of B are skipped, so a mismatched pair still has a size)."""
    k = A.indices.astype(np.int64)
    k = k[k < B.shape[0]]
    return int(np.diff(B.indptr.astype(np.int64))[k].sum())


def work(args) -> int:
    """The size measure: entries read plus products made, nnz(A) + nnz(B) + products."""
    A, B = args
    return A.indices.size + B.indices.size + products(A, B)


def _random(rng: np.random.Generator, size: int) -> tuple:
    """About `size` = nnz(A) + nnz(B) + products: rectangular A (r x 1.5r) and B (1.5r x r+2),
    8 entries per row, so a product of the wrong shape cannot pass."""
    r = max(1, size // (PER_ROW * PER_ROW + 2 * PER_ROW + 4))
    inner = r * 3 // 2 + 1
    return (gen.uniform(rng, r, inner, PER_ROW), gen.uniform(rng, inner, r + 2, PER_ROW))


def _bench(rng: np.random.Generator, size: int) -> tuple:
    r = max(1, size // (PER_ROW * PER_ROW + 2 * PER_ROW))
    return (gen.uniform(rng, r, r, PER_ROW), gen.uniform(rng, r, r, PER_ROW))


def _square(make):
    """A case multiplying a generated matrix by itself."""
    return lambda rng: (lambda M: (M, M))(make(rng))


# written out with its answer in cases.toml: the seed note's 4x4 example (the statement's example)
KNOWN = known.cases(__file__, args=lambda d: (sparse.csr_of(d["A"]), sparse.csr_of(d["B"])))

EDGE_CASES = [
    *KNOWN,
    Case("empty matrix", lambda rng: (_csr({}, (3, 4)), _csr({}, (4, 2))), "no entries: C is 3x2 with none"),
    Case("0 x 0", lambda rng: (_csr({}, (0, 0)), _csr({}, (0, 0)))),
    Case("0 x 3 times 3 x 4", lambda rng: (_csr({}, (0, 3)), _csr({1: [(2, 1.0)]}, (3, 4))), "C is 0x4"),
    Case("3 x 0 times 0 x 4", lambda rng: (_csr({}, (3, 0)), _csr({}, (0, 4))),
         "inner dimension 0: C is 3x4 with no entries"),
    Case("dimension mismatch",
         lambda rng: (_csr({0: [(0, 1.0), (2, 2.0)], 1: [(1, 3.0)]}, (2, 3)),
                      _csr({0: [(0, 1.0), (1, 2.0)], 1: [(1, 4.0)]}, (2, 2))),
         "A is 2x3, B is 2x2: must raise ValueError"),
    Case("empty rows", lambda rng: (_csr({1: [(0, 2.0), (3, -1.0)], 4: [(2, 1.5)]}, (6, 4)),
                                    _csr({0: [(1, 1.0), (4, 2.0)], 2: [(0, -3.0)]}, (4, 5))),
         "empty rows in A and B; B's row 3 is empty, so A's (1, 3) makes no products"),
    Case("products cancel to zero", lambda rng: (_csr({0: [(0, 1.0), (1, 1.0)], 1: [(0, 2.0)]}, (2, 2)),
                                                 _csr({0: [(0, 1.0), (1, 3.0)], 1: [(0, -1.0)]}, (2, 2))),
         "C[0, 0] = 1 - 1 is exactly 0: kept or dropped, both accepted"),
    Case("int64 index input", lambda rng: (_csr({0: [(1, 1.0)], 2: [(0, 2.0), (2, 3.0)]}, (3, 3), np.int64),
                                           _csr({0: [(0, 1.0)], 1: [(2, -1.0)], 2: [(0, 4.0), (1, 5.0)]},
                                                (3, 3), np.int64)),
         "int64 inputs, small shapes: int32 output indices suffice (int64 passes, with a note)"),
    Case("huge entry and cancellation",
         lambda rng: (_csr({0: [(0, 1e16), (1, 1.0), (2, -1e16)], 1: [(1, 0.5)]}, (2, 3)),
                      _csr({0: [(0, 1.0), (1, 2.0)], 1: [(0, 1.0)], 2: [(0, 1.0), (1, 2.0)]}, (3, 2))),
         "C[0, 0] = 1e16 + 1 - 1e16 is 0 or 1 by summation order; C[0, 1] = 0 exactly; row 1 is exact"),
    Case("NaN and inf", lambda rng: (_csr({0: [(0, np.nan)], 1: [(1, 2.0)], 2: [(0, 1.0), (1, 0.0)]}, (3, 2)),
                                     _csr({0: [(0, 1.0), (1, 1.0)], 1: [(0, np.inf), (1, 0.0)]}, (2, 2))),
         "NaN spreads; inf stays inf; inf + finite is inf; a stored 0 times inf is NaN"),
    Case("outer product", lambda rng: (gen.uniform(rng, 6, 1, 1), gen.uniform(rng, 1, 7, 7)),
         "(6x1)·(1x7): every row of C is dense"),
    Case("inner product", lambda rng: (gen.uniform(rng, 1, 9, 6), gen.uniform(rng, 9, 1, 1)), "(1x9)·(9x1): C is 1x1"),
    Case("rectangular", lambda rng: (gen.uniform(rng, 5, 7, 3), gen.uniform(rng, 7, 3, 2))),
    Case("laplacian-2d", _square(lambda rng: gen.laplacian_2d(6)), "5-point stencil squared: a 13-point stencil"),
    Case("laplacian-3d", _square(lambda rng: gen.laplacian_3d(3)), "7-point stencil squared: a 25-point stencil"),
    Case("block-diagonal", _square(lambda rng: gen.block_diagonal(rng, 2, 32, density=0.3)),
         "dense-ish blocks: many products per entry of C"),
    Case("power-law rows", lambda rng: (gen.power_law(rng, 100, 120, 1000), gen.uniform(rng, 120, 80, 5)),
         "a few rows of A hold most entries: long rows of C"),
]


def _check(args, expected, got):
    A, B = args
    # each row's sum of |terms|: |A|·(row sums of |B|), non-finite values left out
    b_row_sums = sparse.abs_product(B, np.ones(B.shape[1]))
    return sparse.check_csr_result(got, expected, sparse.abs_product(A, b_row_sums))


def _describe(args):
    A, B = args
    a, b = sparse.describe_csr(A, limit=20), sparse.describe_csr(B, limit=20)
    return None if a is None or b is None else f"A: {a}\nB: {b}"


PROBLEM = Problem(
    slug="spgemm",
    title="Sparse matrix times sparse matrix (SpGEMM)",
    difficulty="hard",
    entry="spgemm",
    edge_cases=EDGE_CASES,
    make_random=_random,
    random_sizes=[10, 100, 1_000, 3_000],
    bench_sizes=[3_000, 10_000, 100_000, 3_000_000],
    make_bench=_bench,
    size_of=work,
    size_unit="nnz+products",
    expected_exponent=1.0,
    check=_check,
    oracle="numpy",
    timing_reference="numba",
    forbidden_imports=("scipy.sparse", "torch"),
    allowed_errors=(ValueError,),
    describe=_describe,
    notes=sparse.csr_notes,
    explain=sparse.explain_foreign,
    flops_of=lambda args: 2.0 * products(*args),
    limits=Limits(wall_s=30.0),
    tags=("sparse products", "seed note Q3"),
)
