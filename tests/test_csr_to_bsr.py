"""csr-to-bsr: every reference, the baseline and the trusted builder against scipy and a
pure-Python transcription of the rules; the statement's example and padding table."""
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from harness import ROOT, codec, problems
from harness.problems import load_module
from harness.types import BSR, index_dtype
from problems._common import generators as gen
from problems._common import structured
from tests.sparse_helpers import csr_from_dense, dense

PROBLEM = problems.get("csr-to-bsr")
SPEC = load_module(ROOT / "problems/csr-to-bsr/spec.py")
SOLUTIONS = [*PROBLEM.references.values(), *PROBLEM.baselines.values()]


def by_the_rules(D: np.ndarray, stored: np.ndarray, b: int) -> tuple[list, list, list]:
    """indptr, indices, blocks (as nested lists) from a dense matrix and its stored-entry mask."""
    rows, cols = D.shape
    indptr, indices, blocks = [0], [], []
    for I in range(rows // b):
        for J in range(cols // b):
            if stored[I * b:I * b + b, J * b:J * b + b].any():
                indices.append(J)
                blocks.append(np.where(stored, D, 0.0)[I * b:I * b + b, J * b:J * b + b].tolist())
        indptr.append(len(indices))
    return indptr, indices, blocks


@st.composite
def blockable(draw):
    b = draw(st.integers(1, 4))
    n_brow, n_bcol = draw(st.integers(0, 4)), draw(st.integers(0, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    D = rng.integers(-4, 5, (n_brow * b, n_bcol * b)) / 2.0
    D[rng.random(D.shape) < draw(st.floats(0.0, 1.0))] = 0.0
    zeros = rng.random(D.shape) < 0.1 if draw(st.booleans()) else None  # explicit zeros
    return csr_from_dense(D, draw(st.sampled_from([None, np.int64])), zeros), b


@pytest.mark.parametrize("path", [*SOLUTIONS, "trusted builder"])
@settings(max_examples=60, deadline=None)
@given(case=blockable())
def test_follows_the_rules(path, case):
    A, b = case
    digest = codec.digest((A, b))
    B = structured.bsr_from_csr(A, b) if path == "trusted builder" else load_module(ROOT / path).csr_to_bsr(A, b)
    stored = np.zeros(A.shape, dtype=bool)
    stored[np.repeat(np.arange(A.shape[0]), np.diff(A.indptr)), A.indices] = True
    indptr, indices, blocks = by_the_rules(dense(A), stored, b)
    want_dt = index_dtype(A.shape[0] // b, A.shape[1] // b, len(indices))
    assert B.indptr.dtype == want_dt and B.indices.dtype == want_dt and B.data.dtype == np.float64
    assert B.indptr.tolist() == indptr and B.indices.tolist() == indices
    assert B.data.shape == (len(indices), b, b) and B.data.tolist() == blocks
    assert tuple(B.shape) == A.shape and codec.digest((A, b)) == digest


@pytest.mark.parametrize("path", SOLUTIONS)
@pytest.mark.parametrize("structure,b", [("laplacian-2d", 4), ("power-law", 2), ("block-diagonal", 32),
                                         ("uniform", 8), ("laplacian-3d", 8)])
def test_matches_scipy_on_structures(path, structure, b):
    A = gen.make(structure, np.random.default_rng(2), 4096)
    B = load_module(ROOT / path).csr_to_bsr(A, b)
    M = sp.csr_array((A.data, A.indices, A.indptr), shape=A.shape).tobsr(blocksize=(b, b))
    M.sort_indices()
    assert np.array_equal(B.indptr, M.indptr) and np.array_equal(B.indices, M.indices)
    assert np.array_equal(B.data, M.data)
    assert B.data.size / A.indices.size == pytest.approx(structured.bsr_padding(A, b))


@pytest.mark.parametrize("path", SOLUTIONS)
@pytest.mark.parametrize("b", [0, -2, 3, 4])
def test_bad_block_size_raises_value_error(path, b):
    A = gen.uniform(np.random.default_rng(0), 6, 8, 2)  # 6 x 8: b = 2 is the only valid size above 1
    with pytest.raises(ValueError):
        load_module(ROOT / path).csr_to_bsr(A, b)


def test_worked_example_and_padding_table_match_the_statement():
    (case,) = [c for c in PROBLEM.edge_cases if c.name == "worked example"]
    A, b = case.make(None)
    B = structured.bsr_from_csr(A, b)
    assert B.indptr.tolist() == [0, 1, 3] and B.indices.tolist() == [1, 0, 2]
    assert B.data.tolist() == [[[1, 2], [0, 3]], [[8, 0], [0, 0]], [[4, 0], [5, 6]]]
    assert (B.data.size, A.indices.size) == (12, 7)
    readme = (PROBLEM.folder / "README.md").read_text()
    assert "BSR(indptr=[0, 1, 3], indices=[1, 0, 2]," in readme
    assert "12 values stored for 7 entries: padding 12/7 = 1.71" in readme
    assert SPEC.padding_markdown(SPEC.padding_table()) in readme
    for name, cells in SPEC.padding_table():  # padding is between 1 and b², and never falls as b grows
        assert all(1 <= v <= b * b + 1e-9 for v, b in zip(cells, structured.BLOCK_SIZES)), name
        assert cells == sorted(cells), name


def _case():
    A = gen.uniform(np.random.default_rng(3), 12, 8, 3)
    return (A, 4), load_module(ROOT / PROBLEM.reference_path("numpy")).csr_to_bsr(A, 4)


@pytest.mark.parametrize("wrong", ["unsorted", "uint32", "value", "missing block", "transposed"])
def test_checker_rejects(wrong):
    args, B = _case()
    if wrong == "unsorted":
        got = B._replace(indices=B.indices[::-1].copy(), data=B.data[::-1].copy(),
                         indptr=np.array([0, B.indices.size, B.indices.size, B.indices.size], dtype=B.indptr.dtype))
    elif wrong == "uint32":  # int32 and int64 are both accepted; unsigned indices are not
        got = B._replace(indptr=B.indptr.astype(np.uint32), indices=B.indices.astype(np.uint32))
    elif wrong == "value":
        data = B.data.copy()
        data[0, 0, 0] += 1.0
        got = B._replace(data=data)
    elif wrong == "missing block":
        got = BSR(np.minimum(B.indptr, B.indices.size - 1).astype(B.indptr.dtype), B.indices[:-1], B.data[:-1],
                  B.shape)
    else:
        got = B._replace(data=np.ascontiguousarray(B.data.transpose(0, 2, 1)))
    assert PROBLEM.check(args, B, got)


def test_bytes_model_and_size():
    args, B = _case()
    A, b = args
    blocks = B.indices.size
    assert PROBLEM.bytes_of(args) == 12 * A.indices.size + 4 * 13 + 8 * 16 * blocks + 4 * blocks + 4 * 4
    assert PROBLEM.size_of(args) == A.indices.size + 16 * blocks + 12
    A, b = PROBLEM.bench_args(np.random.default_rng(0), 1_000_000)
    assert b == 8 and 1.5 < structured.bsr_padding(A, b) < 2.5
