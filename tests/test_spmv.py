"""spmv: every reference against dense NumPy and scipy; the checker rejects wrong answers."""
import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness import codec, problems
from harness.prefetch import scattered_columns
from problems._common import generators as gen
from tests.sparse_helpers import csr_from_dense, csr_matrices, load_solution

PROBLEM = problems.get("spmv")
SOLUTIONS = [*PROBLEM.references.values(), *PROBLEM.baselines.values()]
quarters = st.integers(0, 2**32 - 1).map(lambda s: np.random.default_rng(s))


@pytest.mark.parametrize("path", SOLUTIONS)
@settings(max_examples=60, deadline=None)
@given(mat=csr_matrices(), rng=quarters)
def test_matches_dense_numpy_exactly(path, mat, rng):
    A, D = mat
    x = rng.integers(-8, 9, size=A.shape[1]) / 4.0  # quarters: every sum is exact
    digest = codec.digest((A, x))
    y = load_solution(path).spmv(A, x)
    assert y.dtype == np.float64 and y.shape == (A.shape[0],)
    np.testing.assert_array_equal(y, D @ x)
    assert codec.digest((A, x)) == digest, "inputs modified"


@pytest.mark.parametrize("path", SOLUTIONS)
@pytest.mark.parametrize("structure", sorted(gen.STRUCTURES))
def test_matches_scipy_on_every_structure(path, structure):
    rng = np.random.default_rng(1)
    A = gen.make(structure, rng, 3000)
    x = rng.standard_normal(A.shape[1])
    expected = load_solution("problems/spmv/baselines/scipy.py").spmv(A, x)
    assert PROBLEM.check((A, x), expected, load_solution(path).spmv(A, x)) is None


@pytest.mark.parametrize("path", SOLUTIONS)
@pytest.mark.parametrize("bad_x", [np.ones(4), np.ones(2), np.ones((3, 1))])
def test_wrong_x_raises_value_error(path, bad_x):
    A = csr_from_dense(np.eye(2, 3))
    with pytest.raises(ValueError):
        load_solution(path).spmv(A, bad_x)


# each of the serial reference's loops, with whether scattered_columns picks the prefetching one
BOTH_LOOPS = {
    "power-law, x fits in L2": (lambda rng: gen.make("power-law", rng, 20_000), False),
    "laplacian": (lambda rng: gen.laplacian_3d(20), False),
    "scattered, short and long rows": (lambda rng: gen.power_law(rng, 3_000, 2_000_000, nnz=90_000), True),
}


@pytest.mark.parametrize("structure", BOTH_LOOPS)
def test_parallel_reference_is_bitwise_serial_at_two_threads(structure):
    build, scattered = BOTH_LOOPS[structure]
    A = build(np.random.default_rng(2))
    assert scattered_columns(A.indptr, A.indices, A.shape, 8) == scattered
    x = np.random.default_rng(3).standard_normal(A.shape[1])
    serial = load_solution("problems/spmv/reference/numba.py").spmv(A, x)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        parallel = load_solution("problems/spmv/reference/numba_parallel.py").spmv(A, x)
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(parallel, serial)


def test_row_chunks_balance_entries_not_rows():
    module = load_solution("problems/spmv/reference/numba_parallel.py")
    indptr = np.array([0, 1000, 1001, 1002, 1003, 2003])  # two heavy rows, three light ones
    bounds = module.row_chunks(indptr, 2)
    assert bounds[0] == 0 and bounds[-1] == 5 and list(bounds) == sorted(set(bounds))
    assert 1 <= bounds[1] <= 4  # the first heavy row gets a chunk to itself
    assert list(module.row_chunks(np.zeros(1, dtype=np.int64), 8)) == [0]


# -- the checker --------------------------------------------------------------------------
def _case(seed=0, rows=40, cols=40):
    rng = np.random.default_rng(seed)
    A = gen.uniform(rng, rows, cols, per_row=6)
    x = rng.standard_normal(cols)
    return A, x, load_solution(PROBLEM.reference_path(PROBLEM.oracle)).spmv(A, x)


def test_checker_accepts_another_summation_order():
    A = gen.make("power-law", np.random.default_rng(4), 2000)  # rows of hundreds of terms
    x = np.random.default_rng(5).standard_normal(A.shape[1])
    expected = load_solution(PROBLEM.reference_path(PROBLEM.oracle)).spmv(A, x)
    rows = np.repeat(np.arange(A.shape[0]), np.diff(A.indptr))
    order = np.random.default_rng(6).permutation(rows.size)  # the same terms, shuffled order
    shuffled = np.zeros(A.shape[0])
    np.add.at(shuffled, rows[order], (A.data * x[A.indices])[order])
    assert not np.array_equal(shuffled, expected)
    assert PROBLEM.check((A, x), expected, shuffled) is None


@pytest.mark.parametrize("wrong", ["zeros", "transposed", "float32", "one term dropped", "sign"])
def test_checker_rejects_wrong_values(wrong):
    A, x, y = _case()
    D = np.zeros(A.shape)
    D[np.repeat(np.arange(A.shape[0]), np.diff(A.indptr)), A.indices] = A.data
    got = {"zeros": np.zeros_like(y), "transposed": D.T @ x,
           "float32": (D.astype(np.float32) @ x.astype(np.float32)).astype(np.float64),
           "one term dropped": y - A.data[0] * x[A.indices[0]], "sign": -y}[wrong]
    message = PROBLEM.check((A, x), y, got)
    assert message and "entries differ" in message


@pytest.mark.parametrize("got, reason", [(None, "returned NoneType"), ([0.0] * 40, "returned list"),
                                         (np.zeros(39), "shape"), (np.zeros((40, 1)), "shape"),
                                         (np.zeros(40, dtype=np.float32), "dtype")])
def test_checker_rejects_wrong_containers(got, reason):
    A, x, y = _case()
    assert reason in PROBLEM.check((A, x), y, got)


def test_checker_tolerance_follows_the_row_and_is_zero_without_terms():
    A = csr_from_dense(np.array([[1e16, 1.0, -1e16], [0.5, 0.25, 0.0], [0.0, 0.0, 0.0]]))
    x = np.ones(3)
    for row0 in (0.0, 1.0, 2.0):  # 1e16 + 1 - 1e16: any rounding of a 2e16-sized row
        assert PROBLEM.check((A, x), np.array([0.0, 0.75, 0.0]), np.array([row0, 0.75, 0.0])) is None
    assert PROBLEM.check((A, x), np.array([0.0, 0.75, 0.0]), np.array([0.0, 0.75 + 1e-9, 0.0]))
    assert PROBLEM.check((A, x), np.array([0.0, 0.75, 0.0]), np.array([0.0, 0.75, 1e-300]))  # empty row: exactly 0


def test_checker_requires_nan_and_inf_exactly():
    A = csr_from_dense(np.array([[1.0, 0.0], [0.0, 1.0]]))
    x = np.array([np.nan, np.inf])
    assert PROBLEM.check((A, x), x.copy(), x.copy()) is None
    for got in ([0.0, np.inf], [np.nan, 0.0], [np.nan, -np.inf], [np.nan, 1e308]):
        assert PROBLEM.check((A, x), x.copy(), np.array(got)), got


def test_bytes_model_is_the_stated_formula():
    A, x, _ = _case(rows=30, cols=50)
    nnz = A.indices.size
    assert PROBLEM.bytes_of((A, x)) == 12 * nnz + 4 * (30 + 1) + 8 * 30 + 8 * 50
    A64 = gen.with_index_dtype(A, np.int64)
    assert PROBLEM.bytes_of((A64, x)) == 16 * nnz + 8 * (30 + 1) + 8 * 30 + 8 * 50
