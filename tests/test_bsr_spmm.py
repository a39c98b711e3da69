"""bsr-spmm: every reference and baseline against dense NumPy and scipy; the checker rejects
wrong answers; the statement's example and models are the code's."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness import ROOT, codec, problems
from harness.problems import load_module
from harness.types import BSR
from problems._common import generators as gen
from problems._common import structured
from tests.sparse_helpers import load_solution

PROBLEM = problems.get("bsr-spmm")
SPEC = load_module(ROOT / "problems/bsr-spmm/spec.py")
SOLUTIONS = [*PROBLEM.references.values(), *PROBLEM.baselines.values()]


@st.composite
def bsr_matrices(draw):
    """(BSR, its dense form): b in 1..5, up to 4 x 4 blocks, random block pattern, values on a
    grid of quarters (every product and sum exact), zeros inside blocks, sometimes int64."""
    b = draw(st.integers(1, 5))
    n_brow, n_bcol = draw(st.integers(0, 4)), draw(st.integers(0, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    present = rng.random((n_brow, n_bcol)) < draw(st.floats(0.0, 1.0))
    bi, bj = np.nonzero(present)
    data = rng.integers(-8, 9, size=(bi.size, b, b)) / 4.0
    dt = draw(st.sampled_from([np.int32, np.int64]))
    indptr = np.zeros(n_brow + 1, dtype=dt)
    np.cumsum(np.bincount(bi, minlength=n_brow), out=indptr[1:])
    A = BSR(indptr, bj.astype(dt), data, (n_brow * b, n_bcol * b))
    return A, structured.bsr_dense(A)


@pytest.mark.parametrize("path", SOLUTIONS)
@settings(max_examples=60, deadline=None)
@given(mat=bsr_matrices(), k=st.integers(1, 6), seed=st.integers(0, 2**32 - 1))
def test_matches_dense_numpy_exactly(path, mat, k, seed):
    A, D = mat
    X = np.random.default_rng(seed).integers(-8, 9, size=(A.shape[1], k)) / 4.0
    digest = codec.digest((A, X))
    Y = load_solution(path).bsr_spmm(A, X)
    assert Y.dtype == np.float64 and Y.shape == (A.shape[0], k)
    np.testing.assert_array_equal(Y, D @ X)
    assert codec.digest((A, X)) == digest, "inputs modified"


@pytest.mark.parametrize("path", SOLUTIONS)
@pytest.mark.parametrize("structure,b", [("laplacian-2d", 4), ("block-diagonal", 8), ("power-law", 8),
                                         ("uniform", 2), ("laplacian-3d", 16)])
def test_matches_scipy_on_structures(path, structure, b):
    rng = np.random.default_rng(1)
    rows = {"laplacian-3d": 4096}.get(structure, 1024)
    A = structured.bsr_from_csr(gen.make(structure, rng, rows), b)
    X = rng.standard_normal((A.shape[1], 7))
    expected = load_solution("problems/bsr-spmm/baselines/scipy.py").bsr_spmm(A, X)
    assert PROBLEM.check((A, X), expected, load_solution(path).bsr_spmm(A, X)) is None


@pytest.mark.parametrize("path", SOLUTIONS)
@pytest.mark.parametrize("bad", [np.ones((5, 2)), np.ones(6), np.ones((6, 2, 1))])
def test_wrong_X_raises_value_error(path, bad):
    A = structured.block_sparse_bsr(np.random.default_rng(0), 2, 3, 2, 1)
    with pytest.raises(ValueError):
        load_solution(path).bsr_spmm(A, bad)


def test_padding_zeros_take_part():
    """The statement's rule: every value of a stored block is multiplied, so 0 · inf is NaN."""
    A, X = SPEC._padded_zero_times_inf(None)
    for path in SOLUTIONS:
        Y = load_solution(path).bsr_spmm(A, X)
        assert Y[0, 0] == np.inf and np.isnan(Y[1, 0]) and Y[0, 1] == 2.0 and Y[1, 1] == 0.0, path


def test_worked_example_matches_the_statement():
    (case,) = [c for c in PROBLEM.edge_cases if c.name == "worked example"]
    A, X = case.make(None)
    Y = structured.bsr_dense(A) @ X
    assert Y.tolist() == [[5.0, 1.0], [6.0, 0.0], [0.0, 8.0], [6.0, 28.0]]
    readme = (PROBLEM.folder / "README.md").read_text()
    for row in Y:
        assert f"[{row[0]:2.0f}., {row[1]:2.0f}.]" in readme
    assert "[[5, 1], [6, 0], [0, 8], [6, 28]]" in case.note


# -- the checker --------------------------------------------------------------------------
def _case(seed=0):
    rng = np.random.default_rng(seed)
    A = structured.block_sparse_bsr(rng, 6, 5, 4, 2)
    X = rng.standard_normal((A.shape[1], 3))
    return A, X, load_solution(PROBLEM.reference_path(PROBLEM.oracle)).bsr_spmm(A, X)


def test_checker_accepts_another_summation_order():
    A, X, Y = _case(1)
    assert PROBLEM.check((A, X), Y, structured.bsr_dense(A) @ X) is None  # BLAS order


@pytest.mark.parametrize("wrong", ["zeros", "blocks transposed", "float32", "one block dropped", "sign"])
def test_checker_rejects_wrong_values(wrong):
    A, X, Y = _case(2)
    D = structured.bsr_dense(A)
    Dt = structured.bsr_dense(BSR(A.indptr, A.indices, np.ascontiguousarray(A.data.transpose(0, 2, 1)), A.shape))
    one_dropped = structured.bsr_dense(BSR(A.indptr, A.indices, np.concatenate([0 * A.data[:1], A.data[1:]]),
                                           A.shape))
    got = {"zeros": np.zeros_like(Y), "blocks transposed": Dt @ X,
           "float32": (D.astype(np.float32) @ X.astype(np.float32)).astype(np.float64),
           "one block dropped": one_dropped @ X, "sign": -Y}[wrong]
    message = PROBLEM.check((A, X), Y, got)
    assert message and "entries differ" in message


def test_models_are_the_stated_formulas():
    A, X, _ = _case(3)
    rows, cols = A.shape
    blocks, b, k = A.indices.size, 4, 3
    assert PROBLEM.bytes_of((A, X)) == 8 * b * b * blocks + 4 * blocks + 4 * (rows // b + 1) + 8 * k * (rows + cols)
    assert PROBLEM.flops_of((A, X)) == 2 * b * b * blocks * k
    assert PROBLEM.size_of((A, X)) == (b * b * blocks + rows) * k


def test_bench_inputs_are_the_stated_shape():
    A, X = PROBLEM.bench_args(np.random.default_rng(0), 3_000_000)
    assert A.data.shape[1:] == (16, 16) and X.shape[1] == 32
    assert set(np.diff(A.indptr).tolist()) == {8}
    assert 0.7 < PROBLEM.size_of((A, X)) / 3_000_000 <= 1.0
