"""csr-transpose: the CSR of A transposed (the CSC of A), canonical, in O(nnz + rows + cols)."""
import numpy as np

from harness import known
from harness.spec import Case, Limits, Problem
from harness.types import CSR
from problems._common import sparse


def _csr(dense_rows, shape, dtype=np.int32) -> CSR:
    """A CSR from {row: [(col, value), ...]} (rows listed in order, columns sorted)."""
    indptr, indices, data = [0], [], []
    for i in range(shape[0]):
        for j, v in sorted(dense_rows.get(i, [])):
            indices.append(j)
            data.append(v)
        indptr.append(len(indices))
    return CSR(np.array(indptr, dtype=dtype), np.array(indices, dtype=dtype), np.array(data, dtype=np.float64), shape)


def _random(rng: np.random.Generator, nnz: int) -> CSR:
    rows = max(1, nnz // 8)
    return sparse.random_csr(rng, nnz, (rows, max(1, rows * 3 // 2)))  # not square: shape must swap


# written out with their answers in cases.toml: the seed note's 4x4 example, the statement's example
KNOWN = known.cases(__file__, args=lambda d: (sparse.csr_of(d["A"]),))

EDGE_CASES = [
    *KNOWN,
    Case("empty matrix", lambda rng: (_csr({}, (3, 5)),)),
    Case("0 x 0", lambda rng: (_csr({}, (0, 0)),)),
    Case("0 x 4", lambda rng: (_csr({}, (0, 4)),)),
    Case("4 x 0", lambda rng: (_csr({}, (4, 0)),)),
    Case("single row", lambda rng: (_csr({0: [(0, 1.0), (3, 2.0), (7, 3.0)]}, (1, 8)),)),
    Case("single column", lambda rng: (_csr({0: [(0, 1.0)], 2: [(0, 2.0)], 5: [(0, 3.0)]}, (6, 1)),)),
    Case("empty rows and columns", lambda rng: (_csr({1: [(2, 1.0), (4, -1.0)], 6: [(2, 3.0)]}, (8, 6)),)),
    Case("explicit zeros and NaN", lambda rng: (_csr({0: [(1, 0.0), (2, np.nan)], 1: [(0, np.inf)]}, (2, 3)),),
         "stored values move unchanged, zeros and NaN included"),
    Case("power-law rows", lambda rng: (sparse.random_csr(rng, 3000, (300, 200), power_law=True),)),
    Case("int64 index input", lambda rng: (_csr({0: [(1, 1.0)], 1: [(0, 2.0), (1, 3.0)]}, (2, 2), np.int64),),
         "int64 inputs, small shape: int32 output indices suffice (int64 passes, with a note)"),
]


def _check(args, expected, got):
    (A,) = args
    rows_t = A.indices.astype(np.int64)  # row of the transpose = column of A
    return sparse.check_csr_result(got, expected, sparse.row_abs_sums(rows_t, A.data, A.shape[1]))


PROBLEM = Problem(
    slug="csr-transpose",
    title="Transpose a CSR matrix (CSR to CSC)",
    difficulty="easy",
    entry="csr_transpose",
    edge_cases=EDGE_CASES,
    make_random=lambda rng, n: (_random(rng, n),),
    random_sizes=[10, 100, 1_000, 20_000],
    bench_sizes=[30_000, 100_000, 300_000, 1_000_000],
    size_of=lambda args: args[0].indices.size + args[0].shape[0] + args[0].shape[1],
    size_unit="nnz+rows+cols",
    expected_exponent=1.0,
    check=_check,
    oracle="numpy",
    timing_reference="numba",
    forbidden_imports=("scipy.sparse", "torch"),
    describe=lambda args: sparse.describe_csr(args[0]),
    notes=sparse.csr_notes,
    explain=sparse.explain_foreign,
    limits=Limits(wall_s=30.0),
    tags=("sparse formats", "seed note Q2"),
)
