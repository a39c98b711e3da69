"""sell-spmv: the SELL builder against a pure-Python transcription of the format's rules; every
reference and baseline against dense NumPy; the statement's example, padding table and models."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness import ROOT, codec, problems
from harness.problems import load_module
from problems._common import generators as gen
from problems._common import structured
from tests.sell_oracle import assert_same_sell, sell_by_the_rules
from tests.sparse_helpers import csr_from_dense, csr_matrices, dense, load_solution

PROBLEM = problems.get("sell-spmv")
SPEC = load_module(ROOT / "problems/sell-spmv/spec.py")
SOLUTIONS = [*PROBLEM.references.values(), *PROBLEM.baselines.values()]
chunk_heights = st.sampled_from([1, 2, 3, 4, 8])
windows = st.sampled_from([1, 2, 3, 4, 8, 100])


@settings(max_examples=80, deadline=None)
@given(mat=csr_matrices(rows=st.integers(0, 12)), C=chunk_heights, sigma=windows)
def test_builder_follows_the_rules(mat, C, sigma):
    A, _ = mat
    assert_same_sell(structured.sell_from_csr(A, C, sigma), sell_by_the_rules(A, C, sigma))


@pytest.mark.parametrize("path", SOLUTIONS)
@settings(max_examples=50, deadline=None)
@given(mat=csr_matrices(rows=st.integers(0, 12)), C=chunk_heights, sigma=windows, seed=st.integers(0, 2**32 - 1))
def test_matches_dense_numpy_exactly(path, mat, C, sigma, seed):
    A, D = mat
    S = structured.sell_from_csr(A, C, sigma)
    x = np.random.default_rng(seed).integers(-8, 9, size=A.shape[1]) / 4.0  # quarters: exact sums
    digest = codec.digest((A, S, x))
    y = load_solution(path).sell_spmv(A, S, x)
    assert y.dtype == np.float64 and y.shape == (A.shape[0],)
    np.testing.assert_array_equal(y, D @ x)
    assert codec.digest((A, S, x)) == digest, "inputs modified"


@pytest.mark.parametrize("path", SOLUTIONS)
@pytest.mark.parametrize("structure", sorted(gen.STRUCTURES))
def test_matches_scipy_on_every_structure(path, structure):
    rng = np.random.default_rng(1)
    A = gen.make(structure, rng, 3000)
    x = rng.standard_normal(A.shape[1])
    args = (A, structured.sell_from_csr(A, 8, 256), x)
    expected = load_solution("problems/sell-spmv/baselines/scipy.py").sell_spmv(*args)
    assert PROBLEM.check(args, expected, load_solution(path).sell_spmv(*args)) is None


@pytest.mark.parametrize("path", SOLUTIONS)
def test_wrong_x_raises_value_error(path):
    A = csr_from_dense(np.eye(2, 3))
    for bad in (np.ones(2), np.ones(4), np.ones((3, 1))):
        with pytest.raises(ValueError):
            load_solution(path).sell_spmv(A, structured.sell_from_csr(A, 2, 2), bad)


def test_worked_example_matches_the_statement():
    (case,) = [c for c in PROBLEM.edge_cases if c.name == "worked example"]
    A, S, x = case.make(None)
    assert_same_sell(S, sell_by_the_rules(A, 2, 4))  # the written-out S is A's, by the rules
    readme = (PROBLEM.folder / "README.md").read_text()
    for name in ("perm", "chunk_len", "chunk_ptr"):
        assert f"S.{name:<9} = {getattr(S, name).tolist()}" in readme, name
    cols = ",   ".join(", ".join(str(v) for v in S.col[a:b]) for a, b in zip(S.chunk_ptr[:-1], S.chunk_ptr[1:]))
    assert f"S.col       = [{cols}]" in readme
    vals = ",   ".join(", ".join(f"{v:.0f}." for v in S.data[a:b]) for a, b in zip(S.chunk_ptr[:-1], S.chunk_ptr[1:]))
    assert f"S.data      = [{vals}]" in readme
    y = dense(A) @ x
    assert y.tolist() == [1.0, 40.0, 0.0, 35.0, 53.0, 54.0]
    assert "array([ 1., 40.,  0., 35., 53., 54.])" in readme
    assert "y = [1, 40, 0, 35, 53, 54]" in case.note


def test_padding_table_in_the_statement_is_recomputed():
    table = SPEC.padding_table()
    assert SPEC.padding_markdown(table) in (PROBLEM.folder / "README.md").read_text()
    lengths = {name: np.diff(gen.make(name, np.random.default_rng(0), SPEC.TABLE_ROWS).indptr.astype(np.int64))
               for name, _ in table}
    for name, cells in table:  # independently: ELL is rows x longest; SELL-1-1 would be exactly 1
        n = lengths[name]
        assert cells[0] == pytest.approx(n.size * n.max() / n.sum())
        assert structured.sell_slots(n, 1, 1) == n.sum()
        assert cells[3] <= cells[2] + 1e-12 <= cells[1] + 2e-12  # more sorting, less padding (C = 8)
    power = dict(table)["power-law"]
    assert power[0] > 1000 and power[3] < 1.5


# -- the checker and models ---------------------------------------------------------------
def _case(seed=0):
    rng = np.random.default_rng(seed)
    A = gen.power_law(rng, 60, 50, 400)
    args = (A, structured.sell_from_csr(A, 4, 16), rng.standard_normal(50))
    return args, load_solution(PROBLEM.reference_path(PROBLEM.oracle)).sell_spmv(*args)


@pytest.mark.parametrize("wrong", ["zeros", "sorted order", "padding row dropped", "sign"])
def test_checker_rejects_wrong_values(wrong):
    args, y = _case()
    A, S, x = args
    got = {"zeros": np.zeros_like(y), "sorted order": y[S.perm.astype(np.int64)],
           "padding row dropped": np.where(np.arange(y.size) == S.perm[0], 0.0, y), "sign": -y}[wrong]
    message = PROBLEM.check(args, y, got)
    assert message and "entries differ" in message


def test_bytes_model_is_the_stated_formula():
    args, _ = _case(1)
    A, S, x = args
    rows, cols = S.shape
    slots, chunks = S.col.size, S.chunk_len.size
    assert PROBLEM.bytes_of(args) == 12 * slots + 4 * (2 * chunks + 1) + 4 * rows + 8 * rows + 8 * cols
    assert PROBLEM.flops_of(args) == 2 * A.indices.size


def test_bench_inputs_are_the_stated_structure():
    A, S, x = PROBLEM.bench_args(np.random.default_rng(0), 300_000)
    assert S.C == SPEC.BENCH_C and S.sigma == SPEC.BENCH_SIGMA
    assert np.array_equal(A.indptr, gen.make("laplacian-3d", None, A.shape[0]).indptr)
    assert 0.7 < PROBLEM.size_of((A, S, x)) / 300_000 < 1.3


def test_csr_baseline_runs_the_spmv_reference_kernel():
    """baselines/csr.py copies the spmv reference's kernel (importing it would share Numba cache
    entries under a second module name): the copy must stay identical."""
    import ast

    def kernel(path):
        tree = ast.parse((ROOT / path).read_text())
        return [ast.dump(node) for node in tree.body
                if isinstance(node, ast.FunctionDef) and node.name in ("_spmv", "unsigned")]

    assert kernel("problems/sell-spmv/baselines/csr.py") == kernel("problems/spmv/reference/numba.py")
