"""csr-to-sell: both references (and the trusted builder the sell-spmv inputs come from) against
the pure-Python transcription of the format's rules; the statement's example; the checker."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness import ROOT, codec, problems
from harness.problems import load_module
from problems._common import generators as gen
from problems._common import structured
from tests.sell_oracle import assert_same_sell, sell_by_the_rules
from tests.sparse_helpers import csr_matrices

PROBLEM = problems.get("csr-to-sell")
SOLUTIONS = list(PROBLEM.references.values())


@pytest.mark.parametrize("path", SOLUTIONS)
@settings(max_examples=80, deadline=None)
@given(mat=csr_matrices(rows=st.integers(0, 14)), C=st.sampled_from([1, 2, 3, 4, 8]),
       sigma=st.sampled_from([1, 2, 3, 5, 8, 100]))
def test_follows_the_rules(path, mat, C, sigma):
    A, _ = mat
    digest = codec.digest((A, C, sigma))
    assert_same_sell(load_module(ROOT / path).csr_to_sell(A, C, sigma), sell_by_the_rules(A, C, sigma))
    assert codec.digest((A, C, sigma)) == digest


@pytest.mark.parametrize("path", SOLUTIONS)
@pytest.mark.parametrize("structure", sorted(gen.STRUCTURES))
def test_agrees_with_the_builder_on_every_structure(path, structure):
    A = gen.make(structure, np.random.default_rng(4), 5000)
    for C, sigma in ((8, 256), (32, 1), (4, 5000)):
        got = load_module(ROOT / path).csr_to_sell(A, C, sigma)
        assert PROBLEM.check((A, C, sigma), structured.sell_from_csr(A, C, sigma), got) is None


@pytest.mark.parametrize("path", SOLUTIONS)
@pytest.mark.parametrize("C,sigma", [(0, 4), (2, 0), (-1, 1)])
def test_bad_parameters_raise_value_error(path, C, sigma):
    with pytest.raises(ValueError):
        load_module(ROOT / path).csr_to_sell(gen.uniform(np.random.default_rng(0), 4, 4, 2), C, sigma)


def test_worked_example_and_ties_match_the_statement():
    (case,) = [c for c in PROBLEM.edge_cases if c.name == "worked example"]
    A, C, sigma = case.make(None)
    S = structured.sell_from_csr(A, C, sigma)
    readme = (PROBLEM.folder / "README.md").read_text()
    assert f"# SELL(chunk_ptr={S.chunk_ptr.tolist()}, chunk_len={S.chunk_len.tolist()}," in readme
    assert f"#      col={S.col.tolist()}," in readme
    assert f"#      perm={S.perm.tolist()}, shape=(6, 6), C=2, sigma=4)" in readme
    assert "data=[" + ", ".join(f"{v:.0f}." for v in S.data) + "]" in readme
    assert (S.col.size, A.indices.size) == (12, 9)
    (ties,) = [c for c in PROBLEM.edge_cases if c.name == "ties keep the original order"]
    A, C, sigma = ties.make(None)
    assert structured.sell_from_csr(A, C, sigma).perm.tolist()[4:] == [5, 7, 4, 6]
    assert "rows 5, 7, 4, 6, never 7, 5, 6, 4" in readme


def _case():
    A = gen.power_law(np.random.default_rng(5), 40, 30, 200)
    return (A, 4, 8), structured.sell_from_csr(A, 4, 8)


@pytest.mark.parametrize("wrong", ["perm", "uint32", "slot", "chunk_len", "tuple"])
def test_checker_rejects_and_names_the_place(wrong):
    args, S = _case()
    if wrong == "perm":
        perm = S.perm.copy()
        perm[[0, 1]] = perm[[1, 0]]
        got, expect = S._replace(perm=perm), "perm differs first at sorted position 0"
    elif wrong == "uint32":  # int32 and int64 are both accepted; unsigned indices are not
        got, expect = S._replace(col=S.col.astype(np.uint32)), "col has dtype uint32"
    elif wrong == "slot":
        data = S.data.copy()
        data[5] += 1
        got, expect = S._replace(data=data), "slot 5 = chunk 0"
    elif wrong == "chunk_len":
        got, expect = S._replace(chunk_len=S.chunk_len + 1), "chunk_len ="
    else:
        got, expect = tuple(S)[:5], "expected SELL("
    message = PROBLEM.check(args, S, got)
    assert message and expect in message, message


def test_bytes_model_and_size():
    args, S = _case()
    A = args[0]
    assert PROBLEM.size_of(args) == S.col.size + 40
    assert PROBLEM.bytes_of(args) == 12 * A.indices.size + 4 * 41 + 12 * S.col.size + 4 * (2 * 10 + 1) + 4 * 40
