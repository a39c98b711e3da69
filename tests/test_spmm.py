"""spmm: every reference against dense NumPy and scipy; the checker rejects wrong answers."""
import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness import codec, problems
from harness.prefetch import scattered_columns
from problems._common import generators as gen
from tests.sparse_helpers import csr_from_dense, csr_matrices, dense, in_entry_order, load_solution

PROBLEM = problems.get("spmm")
SOLUTIONS = [*PROBLEM.references.values(), *PROBLEM.baselines.values()]


@pytest.mark.parametrize("path", SOLUTIONS)
@settings(max_examples=60, deadline=None)
@given(mat=csr_matrices(), k=st.sampled_from([1, 2, 3, 8, 17, 64]), seed=st.integers(0, 2**32 - 1))
def test_matches_dense_numpy_exactly(path, mat, k, seed):
    A, D = mat
    X = np.random.default_rng(seed).integers(-8, 9, size=(A.shape[1], k)) / 4.0  # exact sums
    digest = codec.digest((A, X))
    Y = load_solution(path).spmm(A, X)
    assert Y.dtype == np.float64 and Y.shape == (A.shape[0], k)
    np.testing.assert_array_equal(Y, D @ X)
    assert codec.digest((A, X)) == digest, "inputs modified"


@pytest.mark.parametrize("path", SOLUTIONS)
@pytest.mark.parametrize("structure", sorted(gen.STRUCTURES))
def test_matches_scipy_on_every_structure(path, structure):
    rng = np.random.default_rng(1)
    A = gen.make(structure, rng, 2000)
    X = rng.standard_normal((A.shape[1], 16))
    expected = load_solution("problems/spmm/baselines/scipy.py").spmm(A, X)
    assert PROBLEM.check((A, X), expected, load_solution(path).spmm(A, X)) is None


@pytest.mark.parametrize("path", SOLUTIONS)
@pytest.mark.parametrize("bad_X", [np.ones((4, 2)), np.ones((2, 2)), np.ones(3), np.ones((3, 2, 1))])
def test_wrong_X_raises_value_error(path, bad_X):
    with pytest.raises(ValueError):
        load_solution(path).spmm(csr_from_dense(np.eye(2, 3)), bad_X)


def test_fortran_ordered_X_gives_the_same_answer():
    A = gen.make("uniform", np.random.default_rng(0), 300)
    X = np.random.default_rng(1).standard_normal((A.shape[1], 5))
    for path in PROBLEM.references.values():
        np.testing.assert_array_equal(load_solution(path).spmm(A, np.asfortranarray(X)),
                                      load_solution(path).spmm(A, X))


# each of the serial reference's loops, with whether scattered_columns picks the prefetching one
BOTH_LOOPS = {
    "power-law, X fits in L2": (lambda rng: gen.make("power-law", rng, 5000), False),
    "laplacian": (lambda rng: gen.laplacian_3d(16), False),
    "scattered, short and long rows": (lambda rng: gen.power_law(rng, 3_000, 200_000, nnz=30_000), True),
}


@pytest.mark.parametrize("k", [7, 16, 21])  # under one 8-column block, two blocks, two and a tail
@pytest.mark.parametrize("structure", BOTH_LOOPS)
def test_numba_references_add_each_row_in_entry_order(structure, k):
    build, scattered = BOTH_LOOPS[structure]
    A = build(np.random.default_rng(2))
    X = np.random.default_rng(3).standard_normal((A.shape[1], k))
    assert scattered_columns(A.indptr, A.indices, A.shape, k * 8) == scattered
    expected = in_entry_order(A.indptr, A.indices, A.data, X)
    serial = load_solution("problems/spmm/reference/numba.py").spmm(A, X)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        parallel = load_solution("problems/spmm/reference/numba_parallel.py").spmm(A, X)
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(serial, expected)
    np.testing.assert_array_equal(parallel, expected)


# -- the checker --------------------------------------------------------------------------
def _case(k=4):
    rng = np.random.default_rng(0)
    A = gen.uniform(rng, 30, 20, per_row=5)
    X = rng.standard_normal((20, k))
    return A, X, load_solution(PROBLEM.reference_path(PROBLEM.oracle)).spmm(A, X)


@pytest.mark.parametrize("wrong", ["zeros", "k SpMVs with columns swapped", "float32", "fancy-index +=",
                                   "one column zero"])
def test_checker_rejects_wrong_values(wrong):
    A, X, Y = _case()
    D = dense(A)
    rows = np.repeat(np.arange(A.shape[0]), np.diff(A.indptr))
    buffered = np.zeros_like(Y)
    buffered[rows] += A.data[:, None] * X[A.indices]  # keeps one product per row
    one_col = Y.copy()
    one_col[:, 2] = 0.0
    got = {"zeros": np.zeros_like(Y), "k SpMVs with columns swapped": (D @ X)[:, ::-1].copy(),
           "float32": (D.astype(np.float32) @ X.astype(np.float32)).astype(np.float64),
           "fancy-index +=": buffered, "one column zero": one_col}[wrong]
    message = PROBLEM.check((A, X), Y, got)
    assert message and "entries differ" in message


@pytest.mark.parametrize("got, reason", [(np.zeros((30, 3)), "shape"), (np.zeros((4, 30)), "shape"),
                                         (np.zeros(120), "shape"), (np.zeros((30, 4), dtype=np.float32), "dtype"),
                                         ([[0.0] * 4] * 30, "returned list")])
def test_checker_rejects_wrong_containers(got, reason):
    A, X, Y = _case()
    assert reason in PROBLEM.check((A, X), Y, got)


def test_checker_tolerance_is_per_entry():
    A = csr_from_dense(np.array([[1e16, 1.0, -1e16], [0.0, 0.25, 0.0]]))
    X = np.array([[1.0, 0.5], [1.0, 2.0], [1.0, 0.0]])
    expected = np.array([[0.0, 0.5e16 + 2.0], [0.25, 0.5]])
    assert PROBLEM.check((A, X), expected, np.array([[1.0, 0.5e16 + 2.0], [0.25, 0.5]])) is None  # (0, 0): rounding
    assert PROBLEM.check((A, X), expected, np.array([[0.0, 0.5e16 + 2.0], [0.25, 0.5 + 1e-9]]))  # row 1 is exact


def test_bytes_model_is_the_stated_formula():
    A, X, _ = _case(k=16)
    nnz, rows, cols = A.indices.size, 30, 20
    assert PROBLEM.bytes_of((A, X)) == 12 * nnz + 4 * (rows + 1) + 8 * 16 * rows + 8 * 16 * cols
