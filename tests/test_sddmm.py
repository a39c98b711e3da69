"""sddmm: every reference and baseline against dense NumPy (A @ B.T sampled at the pattern), the
statement's worked example, the flag, and a checker that accepts any summation order and rejects
wrong answers."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness import codec, problems
from problems._common import generators as gen
from tests.sparse_helpers import csr_from_dense, csr_matrices, load_solution

PROBLEM = problems.get("sddmm")
SOLUTIONS = [*PROBLEM.references.values(), *PROBLEM.baselines.values()]


def dense_oracle(S, A, B, scaled):
    """Independent: the full product A·Bᵀ, read at the stored entries in CSR order."""
    rows = np.repeat(np.arange(S.shape[0]), np.diff(S.indptr.astype(np.int64)))
    full = A @ B.T if A.shape[1] else np.zeros((A.shape[0], B.shape[0]))
    out = full[rows, S.indices.astype(np.int64)]
    return out * S.data if scaled else out


@pytest.mark.parametrize("path", SOLUTIONS)
@settings(max_examples=60, deadline=None)
@given(mat=csr_matrices(), d=st.integers(0, 6), scaled=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_matches_dense_numpy_exactly(path, mat, d, scaled, seed):
    S, _ = mat
    rng = np.random.default_rng(seed)
    A = rng.integers(-8, 9, size=(S.shape[0], d)) / 4.0  # quarters: every product and sum is exact
    B = rng.integers(-8, 9, size=(S.shape[1], d)) / 4.0
    digest = codec.digest((S, A, B, scaled))
    out = load_solution(path).sddmm(S, A, B, scaled)
    assert out.dtype == np.float64 and out.shape == (S.indices.size,)
    np.testing.assert_array_equal(out, dense_oracle(S, A, B, scaled))
    assert codec.digest((S, A, B, scaled)) == digest, "inputs modified"


@pytest.mark.parametrize("path", SOLUTIONS)
@pytest.mark.parametrize("structure", sorted(gen.STRUCTURES))
def test_matches_the_dense_oracle_on_every_structure(path, structure):
    rng = np.random.default_rng(1)
    S = gen.make(structure, rng, 1500)
    A, B = rng.standard_normal((S.shape[0], 24)), rng.standard_normal((S.shape[1], 24))
    for scaled in (False, True):
        args = (S, A, B, scaled)
        assert PROBLEM.check(args, dense_oracle(*args), load_solution(path).sddmm(*args)) is None


@pytest.mark.parametrize("path", SOLUTIONS)
def test_the_worked_example(path):
    (case,) = [c for c in PROBLEM.edge_cases if c.name == "worked example"]
    S, A, B, _ = case.make(None)
    module = load_solution(path)
    np.testing.assert_array_equal(module.sddmm(S, A, B, False), [1.0, 5.0, -1.0, 3.0])
    np.testing.assert_array_equal(module.sddmm(S, A, B, True), [2.0, -5.0, -0.5, 9.0])
    np.testing.assert_array_equal(dense_oracle(S, A, B, True), [2.0, -5.0, -0.5, 9.0])


@pytest.mark.parametrize("path", SOLUTIONS)
def test_pattern_only_never_reads_the_values(path):
    S = csr_from_dense(np.array([[1.0, 2.0], [0.0, 3.0]]))
    S = S._replace(data=np.array([np.nan, np.inf, -np.inf]))
    A, B = np.array([[1.0], [2.0]]), np.array([[3.0], [4.0]])
    np.testing.assert_array_equal(load_solution(path).sddmm(S, A, B, False), [3.0, 4.0, 8.0])


@pytest.mark.parametrize("path", SOLUTIONS)
@pytest.mark.parametrize("A_shape, B_shape", [((3, 2), (3, 2)), ((2, 2), (2, 2)), ((2, 2), (3, 3)), ((2,), (3, 2)),
                                              ((2, 2), (3,))])
def test_wrong_shapes_raise_value_error(path, A_shape, B_shape):
    S = csr_from_dense(np.eye(2, 3))
    with pytest.raises(ValueError):
        load_solution(path).sddmm(S, np.ones(A_shape), np.ones(B_shape), True)


# -- the checker --------------------------------------------------------------------------
def _case(seed=0, scaled=True):
    rng = np.random.default_rng(seed)
    S = gen.uniform(rng, 40, 50, per_row=6)
    args = (S, rng.standard_normal((40, 16)), rng.standard_normal((50, 16)), scaled)
    return args, dense_oracle(*args)


def test_checker_accepts_another_summation_order():
    args, expected = _case(scaled=False)
    S, A, B, _ = args
    rows = np.repeat(np.arange(S.shape[0]), np.diff(S.indptr))
    terms = A[rows] * B[S.indices]
    reversed_order = np.zeros(S.indices.size)
    for k in reversed(range(A.shape[1])):
        reversed_order += terms[:, k]
    assert not np.array_equal(reversed_order, expected)
    assert PROBLEM.check(args, expected, reversed_order) is None


@pytest.mark.parametrize("wrong", ["zeros", "float32", "one term dropped", "sign", "unscaled", "transposed pattern"])
def test_checker_rejects_wrong_values(wrong):
    args, out = _case()
    S, A, B, _ = args
    rows = np.repeat(np.arange(S.shape[0]), np.diff(S.indptr))
    got = {"zeros": np.zeros_like(out),
           "float32": dense_oracle(S, A.astype(np.float32), B.astype(np.float32), True).astype(np.float64),
           "one term dropped": out - A[rows, 0] * B[S.indices, 0] * S.data,
           "sign": -out, "unscaled": dense_oracle(S, A, B, False),
           "transposed pattern": (A[:, :] @ B[:40].T)[S.indices % 40, rows] * S.data}[wrong]
    message = PROBLEM.check(args, out, got)
    assert message and "entries differ" in message


@pytest.mark.parametrize("got, reason", [(None, "returned NoneType"), ([0.0], "returned list"),
                                         (np.zeros(3), "shape"), (np.zeros((1, 1)), "shape")])
def test_checker_rejects_wrong_containers(got, reason):
    args, out = _case()
    assert reason in PROBLEM.check(args, out, got)


def test_checker_rejects_float32_dtype():
    args, out = _case()
    assert "dtype" in PROBLEM.check(args, out, out.astype(np.float32))


def test_checker_tolerance_is_zero_where_a_row_of_A_is_zero():
    S = csr_from_dense(np.array([[1.0, 1.0], [1.0, 0.0]]))
    A, B = np.array([[0.0, 0.0], [1.0, 1.0]]), np.array([[1.0, 2.0], [3.0, 4.0]])
    expected = np.array([0.0, 0.0, 3.0])
    assert PROBLEM.check((S, A, B, False), expected, expected.copy()) is None
    assert PROBLEM.check((S, A, B, False), expected, np.array([1e-300, 0.0, 3.0]))


def test_bytes_and_flops_models_are_the_stated_formulas():
    args, _ = _case()
    S = args[0]
    nnz = S.indices.size
    assert PROBLEM.bytes_of(args) == 4 * (nnz + 41) + 8 * 16 * (40 + 50) + 8 * nnz + 8 * nnz
    assert PROBLEM.bytes_of(args[:3] + (False,)) == 4 * (nnz + 41) + 8 * 16 * (40 + 50) + 8 * nnz
    assert PROBLEM.flops_of(args) == 2 * nnz * 16 + nnz
    assert PROBLEM.flops_of(args[:3] + (False,)) == 2 * nnz * 16
    assert PROBLEM.size_of(args) == nnz * 16 and PROBLEM.gemm_dtype == "float64"


def test_bench_inputs_are_the_stated_structure():
    S, A, B, scaled = PROBLEM.bench_args(np.random.default_rng(0), 1_000_000)
    assert S.shape[0] == S.shape[1] == A.shape[0] == B.shape[0] and A.shape[1] == 64 and scaled is False
    assert 0.9 * 1_000_000 <= PROBLEM.size_of((S, A, B, scaled)) <= 1_000_000
