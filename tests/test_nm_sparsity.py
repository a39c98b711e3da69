"""nm-sparsity: every reference and baseline against a pure-Python transcription of the
statement's rules (pruning, tie rule, packed layout) and a float64 product; the statement's
example and its weight-sparsity-versus-MoE table are recomputed."""
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness import ROOT, codec, problems
from harness.problems import load_module
from harness.types import Sparse24
from problems._common import structured
from quiz.formulas import FORMULAS
from tests.sparse_helpers import load_solution

PROBLEM = problems.get("nm-sparsity")
SPEC = load_module(ROOT / "problems/nm-sparsity/spec.py")
SOLUTIONS = [*PROBLEM.references.values(), *PROBLEM.baselines.values()]


def by_the_rules(W: np.ndarray) -> tuple[list, list]:
    """values and meta, group by group, as the statement words it."""
    rows, cols = W.shape
    values, meta = [], []
    for i in range(rows):
        vrow, mrow = [], [0] * ((cols + 7) // 8)
        for g in range(cols // 4):
            a = [abs(float(W[i, 4 * g + j])) for j in range(4)]
            kept = [j for j in range(4) if sum(1 for k in range(4) if a[k] > a[j] or (a[k] == a[j] and k < j)) < 2]
            p0, p1 = kept  # increasing position
            vrow += [float(W[i, 4 * g + p0]), float(W[i, 4 * g + p1])]
            mrow[g // 2] |= (p0 | p1 << 2) << (4 * (g % 2))
        values.append(vrow)
        meta.append(mrow)
    return values, meta


@st.composite
def weights(draw):
    rows, groups = draw(st.integers(0, 6)), draw(st.integers(0, 5))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if draw(st.booleans()):  # a coarse grid: ties in most groups, signed zeros too
        W = rng.integers(-2, 3, (rows, 4 * groups)).astype(np.float32) * np.float32(0.5)
        W[rng.random(W.shape) < 0.1] = -0.0
    else:
        W = rng.standard_normal((rows, 4 * groups)).astype(np.float32)
    return W


@pytest.mark.parametrize("path", SOLUTIONS)
@settings(max_examples=60, deadline=None)
@given(W=weights(), n=st.integers(1, 5), seed=st.integers(0, 2**32 - 1))
def test_matches_the_rules_and_a_float64_product(path, W, n, seed):
    X = (np.random.default_rng(seed).integers(-8, 9, (W.shape[1], n)) / 4).astype(np.float32)
    digest = codec.digest((W, X))
    S, Y = load_solution(path).nm_sparsity(W, X)
    values, meta = by_the_rules(W)
    rows, cols = W.shape
    assert S.values.dtype == np.float32 and S.values.shape == (rows, cols // 2)
    assert S.meta.dtype == np.uint8 and S.meta.shape == (rows, (cols + 7) // 8)
    assert tuple(S.shape) == W.shape
    assert S.values.tolist() == values and S.meta.tolist() == meta
    P = structured.dense_24(Sparse24(S.values, S.meta, W.shape)).astype(np.float64)
    pruned = W.astype(np.float64) * (P != 0) if W.size else P  # P is W with two of four zeroed
    assert np.count_nonzero(P) <= W.size // 2 and np.array_equal(P[P != 0], pruned[P != 0])
    assert Y.dtype == np.float32 and Y.shape == (rows, n)
    np.testing.assert_allclose(Y, P @ X.astype(np.float64), rtol=1e-6, atol=1e-6)
    assert codec.digest((W, X)) == digest, "inputs modified"


@settings(max_examples=60, deadline=None)
@given(W=weights())
def test_trusted_builder_follows_the_rules(W):
    S = structured.compress_24(W)
    values, meta = by_the_rules(W)
    assert S.values.tolist() == values and S.meta.tolist() == meta
    D = structured.dense_24(S)  # the round trip puts each kept value back at its position
    pos = structured.positions_24(S)
    for i, g in np.ndindex(pos.shape[:2]):
        for p in pos[i, g]:
            assert D[i, 4 * g + p] == W[i, 4 * g + p]
        assert np.count_nonzero(D[i, 4 * g:4 * g + 4][np.setdiff1d(np.arange(4), pos[i, g])]) == 0


@pytest.mark.parametrize("path", SOLUTIONS)
@pytest.mark.parametrize("W,X", [(np.ones((2, 6), np.float32), np.ones((6, 2), np.float32)),
                                 (np.ones(8, np.float32), np.ones((8, 2), np.float32)),
                                 (np.ones((2, 8), np.float32), np.ones((4, 2), np.float32)),
                                 (np.ones((2, 8), np.float32), np.ones(8, np.float32))])
def test_bad_shapes_raise_value_error(path, W, X):
    with pytest.raises(ValueError):
        load_solution(path).nm_sparsity(W, X)


def test_worked_example_matches_the_statement():
    (case,) = [c for c in PROBLEM.edge_cases if c.name == "worked example"]
    W, X = case.make(None)
    values, meta = by_the_rules(W)
    assert values == [[-2.0, 1.0, 3.0, 3.0], [0.0, 0.0, -1.0, 1.0]] and meta == [[73], [212]]
    P = structured.dense_24(structured.compress_24(W)).astype(np.float64)
    assert (P @ X).tolist() == [[4.0, 8.0], [-1.0, 0.0]]
    readme = (PROBLEM.folder / "README.md").read_text()
    for text in ("S.values  # [[-2., 1., 3., 3.], [0., 0., -1., 1.]]", "S.meta    # [[73], [212]]",
                 "Y         # [[4., 8.], [-1., 0.]]", "byte 9 | 4<<4 = 73", "-> byte 212"):
        assert text in readme, text
    assert 9 | 4 << 4 == 73 and 4 | 13 << 4 == 212


def test_weight_sparsity_versus_moe_table_is_recomputed():
    d, h, e = 1024, 4096, 8
    dense_weights = 2 * d * h
    moe_total = FORMULAS["moe_ffn_total_params"](d_model=d, d_ff=h, experts=e, matrices=2).value
    moe_active = FORMULAS["moe_ffn_active_params"](d_model=d, d_ff=h, experts=e, top_k=1, matrices=2).value
    moe_flops = FORMULAS["moe_ffn_flops_per_token"](d_model=d, d_ff=h, experts=e, top_k=1, matrices=2).value
    nm_flops = FORMULAS["nm_ffn_flops_per_token"](d_model=d, d_ff=h, n_keep=2, m_group=4).value
    nm_bytes = FORMULAS["nm_sparse_bytes"](rows=d, cols=2 * h, n_keep=2, m_group=4, value_bytes=2).value
    rows = {
        "weights stored": [dense_weights, dense_weights // 2, moe_total],
        "bytes in fp16": [2 * dense_weights, nm_bytes, 2 * moe_total],
        "weights one token multiplies": [dense_weights, dense_weights // 2, moe_active],
        "FLOPs per token": [2 * dense_weights, nm_flops, moe_flops],
    }
    readme = (PROBLEM.folder / "README.md").read_text()
    for label, numbers in rows.items():
        line = next(ln for ln in readme.splitlines() if ln.startswith(f"| {label} |"))
        found = [int(x.replace(",", "")) for x in re.findall(r"\d[\d,]{3,}", line)]
        assert found == numbers, (label, found, numbers)
    assert nm_flops * 2 == 2 * dense_weights and moe_flops > 2 * dense_weights  # half; the same (+ router)
    assert FORMULAS["nm_speedup_bound"](n_keep=2, m_group=4).value == 2


# -- the checker --------------------------------------------------------------------------
def _case():
    W, X = SPEC._tied(np.random.default_rng(0), 8, 16, 3)
    return (W, X), load_solution(PROBLEM.reference_path(PROBLEM.oracle)).nm_sparsity(W, X)


def test_checker_accepts_float32_rounding_and_names_the_group():
    args, (S, Y) = _case()
    W, X = args
    P = structured.dense_24(S)
    assert PROBLEM.check(args, (S, Y), (S, P @ X)) is None  # float32 BLAS, another order
    bad = S.meta.copy()
    bad[2, 1] ^= 0x01  # one position bit flipped in row 2, group 2
    message = PROBLEM.check(args, (S, Y), (Sparse24(S.values, bad, S.shape), Y))
    assert message.startswith("kept positions differ in 1 of 32 groups") and "row 2, group 2" in message


@pytest.mark.parametrize("wrong", ["Y zeros", "Y float64", "values float64", "unused bits", "dense product"])
def test_checker_rejects(wrong):
    args, (S, Y) = _case()
    W, X = args
    if wrong == "unused bits":
        W, X = SPEC._normal(np.random.default_rng(1), 3, 12, 2)  # 3 groups: the last high nibble is unused
        args = (W, X)
        S, Y = load_solution(PROBLEM.reference_path(PROBLEM.oracle)).nm_sparsity(W, X)
        meta = S.meta.copy()
        meta[0, 1] |= 0xF0
        got = (Sparse24(S.values, meta, S.shape), Y)
    else:
        got = {"Y zeros": (S, np.zeros_like(Y)), "Y float64": (S, Y.astype(np.float64)),
               "values float64": (Sparse24(S.values.astype(np.float64), S.meta, S.shape), Y),
               "dense product": (S, (W @ X).astype(np.float32))}[wrong]
    assert PROBLEM.check(args, (S, Y), got)


def test_models():
    W, X = SPEC._normal(np.random.default_rng(2), 8, 16, 6)
    assert PROBLEM.flops_of((W, X)) == 8 * 16 * 6
    assert PROBLEM.bytes_of((W, X)) == 4 * 128 + 2 * 128 + 128 / 8 + 4 * 16 * 6 + 4 * 8 * 6
    assert PROBLEM.size_of((W, X)) == 128 * 4
    W, X = PROBLEM.bench_args(np.random.default_rng(0), 2**24)
    assert W.shape == (1024, 1024) and PROBLEM.size_of((W, X)) == 2**24
