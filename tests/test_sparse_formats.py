"""coo-to-csr and csr-transpose references against independent oracles (scipy, dense NumPy),
and the canonical-CSR checker against wrong answers."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from harness import ROOT
from harness.problems import load_module
from harness.types import COO, CSR
from problems._common import sparse

COO_REFS = {name: load_module(ROOT / f"problems/coo-to-csr/reference/{name}.py").coo_to_csr
            for name in ("numpy", "numba")}
T_REFS = {name: load_module(ROOT / f"problems/csr-transpose/reference/{name}.py").csr_transpose
          for name in ("numpy", "numba")}


@st.composite
def coos(draw):
    rows = draw(st.integers(0, 7))
    cols = draw(st.integers(0, 7))
    n = draw(st.integers(0, 30)) if rows and cols else 0
    r = draw(st.lists(st.integers(0, max(rows - 1, 0)), min_size=n, max_size=n))
    c = draw(st.lists(st.integers(0, max(cols - 1, 0)), min_size=n, max_size=n))
    v = draw(st.lists(st.sampled_from([-2.0, -1.0, 0.0, 0.5, 1.0, 3.0]), min_size=n, max_size=n))
    dtype = draw(st.sampled_from([np.int32, np.int64]))
    return COO(np.array(r, dtype=dtype), np.array(c, dtype=dtype), np.array(v, dtype=np.float64), (rows, cols))


def dense(A: CSR) -> np.ndarray:
    M = np.zeros(A.shape)
    rows = np.repeat(np.arange(A.shape[0]), np.diff(A.indptr))
    np.add.at(M, (rows, A.indices), A.data)
    return M


@pytest.mark.parametrize("name", COO_REFS)
@settings(max_examples=150, deadline=None)
@given(A=coos())
def test_coo_to_csr_matches_scipy_and_dense(name, A):
    got = COO_REFS[name](A)
    assert sparse.canonical_problems(got) is None
    want = sp.coo_array((A.data, (A.row, A.col)), shape=A.shape).tocsr()
    want.sum_duplicates()
    assert np.allclose(dense(got), want.toarray())
    M = np.zeros(A.shape)
    np.add.at(M, (A.row, A.col), A.data)
    assert np.allclose(dense(got), M)


@pytest.mark.parametrize("name", T_REFS)
@settings(max_examples=150, deadline=None)
@given(A=coos())
def test_csr_transpose_matches_scipy(name, A):
    C = sparse.csr_from_coo_trusted(A)
    got = T_REFS[name](C)
    assert sparse.canonical_problems(got) is None and got.shape == A.shape[::-1]
    want = sp.csr_array((C.data, C.indices, C.indptr), shape=C.shape).T.tocsr()
    want.sort_indices()
    assert np.array_equal(got.indptr, want.indptr) and np.array_equal(got.indices, want.indices)
    assert np.array_equal(got.data, want.data)


@settings(max_examples=150, deadline=None)
@given(A=coos(), ahead=st.sampled_from([0, 1, 2, 5, 32]), shift=st.sampled_from([None, 0, 1, 2, 3]))
def test_numba_transpose_large_input_paths_match_scipy(A, ahead, shift):
    """The loops the reference takes on large inputs only (a prefetch `ahead` entries on, and
    the two-pass bucketed scatter with buckets of 2**shift columns), on small ones against
    scipy: a prefetch changes no value, near the end of the entries too, and both passes of
    the bucketed scatter are stable."""
    module = load_module(ROOT / "problems/csr-transpose/reference/numba.py")
    C = sparse.csr_from_coo_trusted(A)
    nnz, n_cols = C.indices.size, C.shape[1]
    t_indptr, t_indices, t_data = np.empty(n_cols + 1, np.int64), np.empty(nnz, np.int64), np.empty(nnz)
    module._count(C.indices, n_cols, t_indptr)
    if shift is None:
        module._scatter(C.indptr, C.indices, C.data, C.shape[0], t_indptr, t_indices, t_data, ahead)
    elif n_cols:
        module._scatter_bucketed(C.indptr, C.indices, C.data, C.shape[0], t_indptr, t_indices, t_data, shift,
                                 np.empty(nnz, np.int64), np.empty(nnz, np.int64), np.empty(nnz))
    module._shift_back(t_indptr)
    got = CSR(t_indptr, t_indices, t_data, C.shape[::-1])
    want = sp.csr_array((C.data, C.indices, C.indptr), shape=C.shape).T.tocsr()
    want.sort_indices()
    assert np.array_equal(got.indptr, want.indptr) and np.array_equal(got.indices, want.indices)
    assert np.array_equal(got.data, want.data)


def test_numba_transpose_takes_every_path_by_size():
    """Large inputs through the reference itself, at thresholds lowered so each path runs: the
    same arrays as scipy's csr_tocsc, whichever path (direct, prefetching, bucketed)."""
    module = load_module(ROOT / "problems/csr-transpose/reference/numba.py")
    C = sparse.random_csr(np.random.default_rng(3), 20_000, (2_000, 3_000))
    want = sp.csr_array((C.data, C.indices, C.indptr), shape=C.shape).tocsc()
    saved = module.PREFETCH_NNZ, module.BUCKET_NNZ, module.BUCKET_ENTRIES
    try:
        for prefetch_nnz, bucket_nnz, entries in [(1 << 30, 1 << 30, 1), (0, 1 << 30, 1), (0, 0, 512), (0, 0, 1)]:
            module.PREFETCH_NNZ, module.BUCKET_NNZ, module.BUCKET_ENTRIES = prefetch_nnz, bucket_nnz, entries
            got = module.csr_transpose(C)
            assert np.array_equal(got.indptr, want.indptr) and np.array_equal(got.indices, want.indices)
            assert np.array_equal(got.data, want.data) and got.shape == (3_000, 2_000)
    finally:
        module.PREFETCH_NNZ, module.BUCKET_NNZ, module.BUCKET_ENTRIES = saved


@pytest.mark.parametrize("name", COO_REFS)
@pytest.mark.parametrize("row,col", [(-1, 0), (0, -1), (3, 0), (0, 4)])
def test_bad_indices_raise_value_error(name, row, col):
    A = COO(np.array([0, row]), np.array([0, col]), np.array([1.0, 2.0]), (3, 4))
    with pytest.raises(ValueError):
        COO_REFS[name](A)


@pytest.mark.parametrize("name", COO_REFS)
def test_int64_only_when_needed(name):
    small = COO(np.array([1], dtype=np.int64), np.array([1], dtype=np.int64), np.array([5.0]), (4, 4))
    assert COO_REFS[name](small).indices.dtype == np.int32
    wide = COO(np.array([0]), np.array([2**31 + 1]), np.array([5.0]), (1, 2**31 + 2))
    got = COO_REFS[name](wide)
    assert got.indices.dtype == np.int64 and got.indptr.dtype == np.int64 and got.indices[0] == 2**31 + 1


def test_seed_note_example_is_two_triplets():
    A = COO(np.array([1, 2]), np.array([1, 3]), np.array([5.0, 7.0]), (4, 4))
    got = COO_REFS["numba"](A)
    assert got.indptr.tolist() == [0, 0, 1, 2, 2] and got.indices.tolist() == [1, 3] and got.data.tolist() == [5, 7]


def test_numba_long_rows_take_the_merge_sort_path():
    rng = np.random.default_rng(0)
    A = sparse.random_coo(rng, 5000, (2, 3000), dup_frac=0.3)
    assert sparse.compare_csr(COO_REFS["numba"](A), COO_REFS["numpy"](A), np.full(2, 1e3)) is None


# -- the checker ----------------------------------------------------------------------------
GOOD = CSR(np.array([0, 2, 3], np.int32), np.array([0, 2, 1], np.int32), np.array([1.0, 2.0, 3.0]), (2, 3))
SCALE = np.array([3.0, 3.0])


@pytest.mark.parametrize("bad,fragment", [
    (GOOD._replace(indices=np.array([2, 0, 1], np.int32)), "unsorted"),
    (GOOD._replace(indices=np.array([0, 0, 1], np.int32)), "duplicate"),
    (GOOD._replace(indptr=np.array([0, 2, 3], np.uint32), indices=GOOD.indices.astype(np.uint32)), "int32 or int64"),
    (GOOD._replace(indices=GOOD.indices.astype(np.float64)), "int32 or int64"),
    (GOOD._replace(indptr=np.array([1, 2, 3], np.int32)), "indptr[0]"),
    (GOOD._replace(indptr=np.array([0, 3, 2], np.int32)), "indptr"),
    (GOOD._replace(indices=np.array([0, 3, 1], np.int32)), "outside"),
    (GOOD._replace(data=GOOD.data.astype(np.float32)), "float64"),
    (GOOD._replace(data=np.zeros(3)), "differ"),
    (GOOD._replace(data=np.array([1.0, 2.0, np.nan])), "NaN"),
    (GOOD._replace(shape=(3, 2)), "shape"),
    ((GOOD.indptr, GOOD.indices, GOOD.data), "expected CSR"),
    ("nonsense", "expected CSR"),
])
def test_checker_rejects_wrong_answers(bad, fragment):
    message = sparse.check_csr_result(bad, GOOD, SCALE)
    assert message and fragment in message


def test_checker_accepts_plain_tuples_rounding_and_dropped_zeros():
    assert sparse.check_csr_result(tuple(GOOD), GOOD, SCALE) is None
    assert sparse.check_csr_result(GOOD._replace(data=GOOD.data + 1e-15), GOOD, SCALE) is None
    with_zero = CSR(np.array([0, 3, 4], np.int32), np.array([0, 1, 2, 1], np.int32), np.array([1.0, 0.0, 2.0, 3.0]),
                    (2, 3))
    assert sparse.check_csr_result(with_zero, GOOD, SCALE) is None  # an explicit zero may be kept
    assert sparse.check_csr_result(GOOD, with_zero, SCALE) is None  # or dropped
