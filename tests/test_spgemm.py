"""spgemm: every reference against dense NumPy and scipy, each row-ordering path of the
Numba reference, hypersparse B, and a checker that rejects wrong or non-canonical answers."""
import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness import ROOT, codec, problems
from harness.grader import grade
from harness.types import CSR
from problems._common import generators as gen
from problems._common.sparse import canonical_problems
from tests.sparse_helpers import csr_from_dense, dense, dense_matrices, load_solution

PROBLEM = problems.get("spgemm")
REFERENCES = list(PROBLEM.references.values())
SOLUTIONS = [*REFERENCES, *PROBLEM.baselines.values()]


@st.composite
def factor_pairs(draw):
    n, m, p = draw(st.integers(0, 7)), draw(st.integers(0, 7)), draw(st.integers(0, 7))
    DA = draw(dense_matrices(rows=st.just(n), cols=st.just(m)))
    DB = draw(dense_matrices(rows=st.just(m), cols=st.just(p)))
    dt = draw(st.sampled_from([None, np.int64]))
    return csr_from_dense(DA, dt), csr_from_dense(DB, dt), DA, DB


@pytest.mark.parametrize("path", SOLUTIONS)
@settings(max_examples=80, deadline=None)
@given(pair=factor_pairs())
def test_matches_dense_numpy_exactly(path, pair):
    A, B, DA, DB = pair
    digest = codec.digest((A, B))
    C = CSR(*load_solution(path).spgemm(A, B))
    assert canonical_problems(C) is None
    assert C.shape == (A.shape[0], B.shape[1])
    np.testing.assert_array_equal(dense(C), DA @ DB)  # quarters: exact whatever the order
    assert codec.digest((A, B)) == digest, "inputs modified"


@pytest.mark.parametrize("path", SOLUTIONS)
@pytest.mark.parametrize("structure", sorted(gen.STRUCTURES))
def test_matches_scipy_on_every_structure(path, structure):
    A = gen.make(structure, np.random.default_rng(1), 2000)
    expected = load_solution("problems/spgemm/baselines/scipy.py").spgemm(A, A)
    assert PROBLEM.check((A, A), expected, load_solution(path).spgemm(A, A)) is None


@pytest.mark.parametrize("path", SOLUTIONS)
def test_dimension_mismatch_raises_value_error(path):
    with pytest.raises(ValueError):
        load_solution(path).spgemm(csr_from_dense(np.ones((2, 3))), csr_from_dense(np.ones((2, 2))))


def _rows_forcing(kind: str) -> tuple[CSR, CSR]:
    """A (1 x n) times B whose product row takes one particular ordering path."""
    rng = np.random.default_rng(0)
    if kind == "short":  # <= 32 entries: insertion sort
        cols = rng.permutation(1000)[:20]
    elif kind == "dense-ish":  # 200 columns spread over a range < 4 x 200: read off in order
        cols = rng.permutation(600)[:200]
    elif kind == "bucket":  # 300 columns spread over 10^6: counting-sort pass
        cols = rng.choice(10**6, 300, replace=False)
    else:  # "crowded": 200 columns in a narrow cluster plus one far away: comparison sort
        cols = np.r_[rng.permutation(200), 10**6 - 1]
    n = cols.size
    # B's row t holds the single column cols[t], in scrambled order: C's row meets them unsorted
    B = gen.assemble(np.arange(n), cols, rng.standard_normal(n), (n, 10**6))
    A = gen.assemble(np.zeros(n, dtype=int), np.arange(n), rng.standard_normal(n), (1, n))
    return A, B


@pytest.mark.parametrize("kind", ["short", "dense-ish", "bucket", "crowded"])
@pytest.mark.parametrize("path", REFERENCES)
def test_every_row_ordering_path(path, kind):
    A, B = _rows_forcing(kind)
    C = load_solution(path).spgemm(A, B)
    expected = load_solution(PROBLEM.reference_path(PROBLEM.oracle)).spgemm(A, B)
    assert PROBLEM.check((A, B), expected, C) is None


@pytest.mark.parametrize("path", REFERENCES)
def test_hypersparse_wide_B_needs_int64_and_no_dense_accumulator(path):
    A = csr_from_dense(np.array([[0.0, 2.0, 0.0, 1.0], [1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 3.0]]))
    wide = 2**33
    B = CSR(np.array([0, 1, 1, 1, 3], dtype=np.int64), np.array([5, 2**31 + 3, wide - 1], dtype=np.int64),
            np.array([1.0, 2.0, 3.0]), (4, wide))
    C = load_solution(path).spgemm(A, B)  # an O(cols) accumulator would need 64 GiB
    assert C.indices.dtype == np.int64 and C.shape == (3, wide)
    assert C.indptr.tolist() == [0, 2, 3, 5] and C.indices.tolist() == [2**31 + 3, wide - 1, 5, 2**31 + 3, wide - 1]
    np.testing.assert_array_equal(C.data, [2.0, 3.0, 1.0, 6.0, 9.0])


@settings(max_examples=40, deadline=None)
@given(pair=factor_pairs(), structure=st.sampled_from(sorted(gen.STRUCTURES)))
def test_numba_reference_allocates_at_the_bound_or_counts_first_with_the_same_result(pair, structure):
    """C allocated at the products bound (one pass, cut to nnz(C) after) and C counted first
    (the symbolic pass, taken past ONE_PASS_BYTES) give the same arrays, and the one-pass
    arrays hold exactly nnz(C) entries."""
    module = load_solution("problems/spgemm/reference/numba.py")
    A, B, _, _ = pair
    S = gen.make(structure, np.random.default_rng(len(structure)), 300)
    for X, Y in ((A, B), (S, S)):
        one_pass = module.spgemm(X, Y)
        with pytest.MonkeyPatch.context() as m:
            m.setattr(module, "ONE_PASS_BYTES", 0)
            counted = module.spgemm(X, Y)
        for got, want in zip(one_pass[:3], counted[:3]):
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)
        assert one_pass.indices.size == one_pass.data.size == int(one_pass.indptr[-1])
        assert PROBLEM.check((X, Y), load_solution(PROBLEM.reference_path(PROBLEM.oracle)).spgemm(X, Y),
                             counted) is None


def test_parallel_reference_is_bitwise_serial_at_two_threads():
    A = gen.make("power-law", np.random.default_rng(2), 5000)
    serial = load_solution("problems/spgemm/reference/numba.py").spgemm(A, A)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        parallel = load_solution("problems/spgemm/reference/numba_parallel.py").spgemm(A, A)
    finally:
        numba.set_num_threads(before)
    for got, want in zip(parallel[:3], serial[:3]):
        np.testing.assert_array_equal(got, want)


def test_products_and_size_measure():
    note = csr_from_dense(np.array([[0, 0, 0, 0], [0, 5.0, 0, 0], [0, 0, 0, 7.0], [0, 0, 0, 0]]))
    assert PROBLEM.flops_of((note, note)) == 2.0 and PROBLEM.size_of((note, note)) == 2 + 2 + 1
    A = gen.make("laplacian-2d", np.random.default_rng(0), 100)
    expected = sum(int(np.diff(A.indptr)[k]) for k in A.indices)
    assert PROBLEM.flops_of((A, A)) == 2.0 * expected


# -- the checker --------------------------------------------------------------------------
def _case():
    rng = np.random.default_rng(0)
    A, B = gen.uniform(rng, 20, 30, 4), gen.uniform(rng, 30, 20, 4)
    return A, B, load_solution(PROBLEM.reference_path(PROBLEM.oracle)).spgemm(A, B)


def _rebuild(D: np.ndarray, dtype=np.int32) -> CSR:
    return csr_from_dense(D, dtype)


def test_checker_accepts_exact_zeros_kept_or_dropped():
    A = csr_from_dense(np.array([[1.0, 1.0], [2.0, 0.0]]))
    B = csr_from_dense(np.array([[1.0, 3.0], [-1.0, 0.0]]))
    kept = load_solution(PROBLEM.reference_path(PROBLEM.oracle)).spgemm(A, B)  # keeps the cancelled (0, 0)
    assert 0.0 in kept.data
    dropped = csr_from_dense(dense(kept))
    assert PROBLEM.check((A, B), kept, kept) is None and PROBLEM.check((A, B), kept, dropped) is None


def test_checker_rejects_wrong_values():
    A, B, C = _case()
    D = dense(C)
    empty = CSR(np.zeros(21, dtype=np.int32), np.zeros(0, dtype=np.int32), np.zeros(0), C.shape)
    bumped = D.copy()
    bumped[np.nonzero(D)[0][0], np.nonzero(D)[1][0]] *= 1 + 1e-9
    missing = D.copy()
    missing[np.nonzero(D)[0][-1], np.nonzero(D)[1][-1]] = 0.0
    for got in (empty, _rebuild(D.T.copy()), _rebuild(bumped), _rebuild(missing), _rebuild(-D)):
        message = PROBLEM.check((A, B), C, got)
        assert message and ("differ" in message or "shape" in message), message


def test_checker_rejects_non_canonical_answers():
    A, B, C = _case()
    row = int(np.flatnonzero(np.diff(C.indptr) >= 2)[0])
    lo, hi = C.indptr[row], C.indptr[row + 1]
    swapped_idx, swapped_val = C.indices.copy(), C.data.copy()
    swapped_idx[lo:hi], swapped_val[lo:hi] = swapped_idx[lo:hi][::-1], swapped_val[lo:hi][::-1]
    duplicated = CSR(np.r_[C.indptr[:row + 1], C.indptr[row + 1:] + 1].astype(np.int32),
                     np.insert(C.indices, lo, C.indices[lo]), np.insert(C.data, lo, 0.0), C.shape)
    cases = {"unsorted": CSR(C.indptr, swapped_idx, swapped_val, C.shape), "duplicate": duplicated,
             "uint32 indices": CSR(C.indptr.astype(np.uint32), C.indices.astype(np.uint32), C.data, C.shape),
             "float32 data": CSR(C.indptr, C.indices, C.data.astype(np.float32), C.shape),
             "not a CSR": (C.indptr, C.indices, C.data)}
    for name, got in cases.items():
        assert PROBLEM.check((A, B), C, got), name


def test_the_seed_note_fails_on_its_own_example_first():
    record = grade(PROBLEM, ROOT / "problems/spgemm/examples/seed_note.py", plan="off")
    assert record["verdict"] == "WA"
    assert record["failure"]["case"] == "seed-note 4x4 example"
    assert "(row 1, col 0): got 25.0, expected 0.0" in record["failure"]["diff"]
