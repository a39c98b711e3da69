"""coo-to-csr: build the canonical CSR of a COO matrix (duplicates summed, rows sorted)."""
import numpy as np

from harness import known
from harness.spec import Case, Limits, Problem
from harness.types import COO
from problems._common import sparse


def _coo(rows, cols, data, shape, dtype=np.int32) -> COO:
    return COO(np.asarray(rows, dtype=dtype), np.asarray(cols, dtype=dtype),
               np.asarray(data, dtype=np.float64), shape)


def _make_random(rng: np.random.Generator, nnz: int) -> COO:
    return sparse.random_coo(rng, nnz, sparse.coo_shape_for(nnz), dup_frac=0.1)


def _duplicates_and_cancellation(rng):
    # (0, 1) appears three times, (2, 2) cancels to exactly zero, (3, 0) twice
    return (_coo([0, 2, 3, 0, 2, 0, 3], [1, 2, 0, 1, 2, 1, 0], [1.0, 5.0, 2.0, 2.0, -5.0, 3.0, 0.5], (4, 3)),)


def _nan_inf(rng):
    return (_coo([0, 0, 1, 1, 2], [0, 0, 1, 2, 0], [np.inf, -np.inf, np.nan, 1.0, np.inf], (3, 3)),)


def _power_law(rng):
    return (sparse.random_coo(rng, 4000, (400, 300), dup_frac=0.2, power_law=True),)


# written out with their answers in cases.toml: the seed note's 4x4 example, the statement's example
KNOWN = known.cases(__file__, args=lambda d: (sparse.coo_of(d["A"]),))

EDGE_CASES = [
    *KNOWN,
    Case("empty matrix", lambda rng: (_coo([], [], [], (5, 4)),)),
    Case("0 x 0", lambda rng: (_coo([], [], [], (0, 0)),)),
    Case("0 x 7", lambda rng: (_coo([], [], [], (0, 7)),)),
    Case("7 x 0", lambda rng: (_coo([], [], [], (7, 0)),)),
    Case("unsorted input", lambda rng: (_coo([3, 0, 2, 0, 1], [0, 3, 1, 0, 2], [1.0, 2.0, 3.0, 4.0, 5.0], (4, 4)),)),
    Case("duplicates and cancellation", _duplicates_and_cancellation,
         "duplicates must be summed; an exact-zero sum may be kept or dropped"),
    Case("empty rows", lambda rng: (_coo([0, 4, 4, 9], [2, 0, 2, 1], [1.0, 2.0, 3.0, 4.0], (10, 3)),)),
    Case("one row holds everything", lambda rng: (sparse.random_coo(rng, 300, (1, 50), dup_frac=0.3),)),
    Case("power-law rows", _power_law, "a few rows hold most entries"),
    Case("int64 index input", lambda rng: (_coo([2, 0, 2], [1, 1, 1], [1.0, 2.0, 3.0], (3, 2), np.int64),),
         "int64 inputs, small shape: int32 output indices suffice (int64 passes, with a note)"),
    Case("needs int64 indices", lambda rng: (_coo([0, 1, 0], [2**31 + 3, 5, 2**31 + 3], [1.0, 2.0, 3.0],
                                                  (2, 2**31 + 10), np.int64),),
         "a dimension past 2**31 - 1: int64 output indices"),
    Case("NaN and inf values", _nan_inf, "inf + -inf is NaN; NaN must stay NaN"),
    Case("negative index", lambda rng: (_coo([0, -1], [0, 1], [1.0, 2.0], (3, 3)),), "must raise ValueError"),
    Case("row out of range", lambda rng: (_coo([0, 3], [0, 1], [1.0, 2.0], (3, 3)),), "must raise ValueError"),
    Case("column out of range", lambda rng: (_coo([0, 1], [0, 3], [1.0, 2.0], (3, 3)),), "must raise ValueError"),
]


def _check(args, expected, got):
    (A,) = args
    return sparse.check_csr_result(got, expected, sparse.row_abs_sums(A.row, A.data, A.shape[0]))


PROBLEM = Problem(
    slug="coo-to-csr",
    title="COO to canonical CSR",
    difficulty="easy",
    entry="coo_to_csr",
    edge_cases=EDGE_CASES,
    make_random=lambda rng, n: (_make_random(rng, n),),
    random_sizes=[10, 100, 1_000, 20_000],
    bench_sizes=[30_000, 100_000, 300_000, 1_000_000],
    size_of=lambda args: args[0].data.size,
    size_unit="nnz",
    expected_exponent=1.0,
    check=_check,
    oracle="numpy",
    timing_reference="numba",
    forbidden_imports=("scipy.sparse", "torch"),
    allowed_errors=(ValueError,),
    describe=lambda args: sparse.describe_coo(args[0]),
    notes=sparse.csr_notes,
    explain=sparse.explain_foreign,
    limits=Limits(wall_s=30.0),
    tags=("sparse formats", "seed note Q1-Q2"),
)
