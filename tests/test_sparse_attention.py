"""sparse-attention: every reference, baseline and AC example against an independent dense float64
oracle (masked softmax with scipy), the statement's worked example, the named patterns against
their definitions as dense masks, and a checker that accepts float32 rounding and rejects mistakes."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import softmax

from harness import codec, problems
from harness.types import CSR
from problems._common import attention_patterns as ap
from problems._common.sparse import canonical_problems
from tests.sparse_helpers import dense, load_solution

PROBLEM = problems.get("sparse-attention")
SPEC = load_solution("problems/sparse-attention/spec.py")
SOLUTIONS = [*PROBLEM.references.values(), *PROBLEM.baselines.values(),
             PROBLEM.folder / "examples" / "buffered_rows.py"]


def dense_oracle(Q, K, V, pattern):
    """Independent: the whole score matrix in float64, -inf off the pattern, scipy's softmax per
    row, zeros for rows without an allowed key."""
    L, n = pattern.shape
    allowed = dense(pattern._replace(data=np.ones(pattern.indices.size))) != 0
    S = Q.astype(np.float64) @ K.astype(np.float64).T / math.sqrt(Q.shape[1])
    out = np.zeros((L, V.shape[1]))
    for i in range(L):
        if allowed[i].any():
            out[i] = softmax(S[i, allowed[i]]) @ V[allowed[i]].astype(np.float64)
    return out


def pattern_from_mask(mask: np.ndarray, idx_dtype=np.int32) -> CSR:
    rows, cols = np.nonzero(mask)
    indptr = np.zeros(mask.shape[0] + 1, dtype=idx_dtype)
    np.cumsum(mask.sum(axis=1), out=indptr[1:])
    return CSR(indptr, cols.astype(idx_dtype), np.ones(rows.size), mask.shape)


@st.composite
def attention_inputs(draw):
    L, n = draw(st.integers(0, 9)), draw(st.integers(0, 9))
    d = draw(st.sampled_from([1, 2, 3, 4, 16]))
    dv = draw(st.integers(0, 5))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    mask = rng.random((L, n)) < draw(st.floats(0.0, 1.0))
    P = pattern_from_mask(mask, draw(st.sampled_from([np.int32, np.int64])))
    if draw(st.booleans()):  # grid inputs (exact scores) or plain normal ones
        Q, K = SPEC.grid(rng, (L, d), draw(st.sampled_from([1.0, 2.0**6]))), SPEC.grid(rng, (n, d))
    else:
        Q, K = (rng.standard_normal((L, d)) * 2).astype(np.float32), rng.standard_normal((n, d)).astype(np.float32)
    return Q, K, rng.standard_normal((n, dv)).astype(np.float32), P


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
@settings(max_examples=80, deadline=None)
@given(args=attention_inputs())
def test_matches_the_dense_float64_oracle(path, args):
    digest = codec.digest(args)
    got = load_solution(path).sparse_attention(*args)
    expected = dense_oracle(*args)
    assert got.dtype == np.float32 and got.shape == expected.shape
    assert PROBLEM.check(args, expected.astype(np.float32), got) is None
    empty = np.diff(args[3].indptr.astype(np.int64)) == 0
    assert np.all(got[empty] == 0.0), "a row with no allowed key must be exactly 0"
    assert codec.digest(args) == digest, "inputs modified"


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
@pytest.mark.parametrize("kind", SPEC.KINDS)
def test_every_pattern_kind_matches_the_oracle(path, kind):
    rng = np.random.default_rng(7)
    args = SPEC.inputs(rng, SPEC.random_pattern(rng, kind, 150, 24), 16, 8)
    assert PROBLEM.check(args, dense_oracle(*args).astype(np.float32), load_solution(path).sparse_attention(*args)) \
        is None


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_the_worked_example(path):
    (case,) = [c for c in PROBLEM.edge_cases if c.name == "worked example"]
    got = load_solution(path).sparse_attention(*case.make(None))
    p0 = math.e / (math.e + 1)
    np.testing.assert_allclose(got, [[p0, 1 - p0], [0, 0], [1, 1]], rtol=1e-6)
    np.testing.assert_allclose(dense_oracle(*case.make(None)), [[0.7311, 0.2689], [0, 0], [1, 1]], atol=5e-5)


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_increasing_scores_rescale_at_every_key_and_stay_accurate(path):
    # scores rise along every row: an online softmax moves its maximum at each key
    L, n, d = 4, 200, 4
    Q = np.ones((L, d), dtype=np.float32)
    K = (np.arange(n, dtype=np.float32)[:, None] / 16 * np.ones(d, dtype=np.float32))
    V = np.random.default_rng(0).standard_normal((n, 3)).astype(np.float32)
    args = (Q, K, V, ap.dense(L, n))
    assert PROBLEM.check(args, dense_oracle(*args).astype(np.float32), load_solution(path).sparse_attention(*args)) \
        is None


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
@pytest.mark.parametrize("shapes", [((3, 4), (5, 3), (5, 2), (3, 5)), ((3, 4), (5, 4), (4, 2), (3, 5)),
                                    ((3, 4), (5, 4), (5, 2), (5, 3)), ((3, 0), (5, 0), (5, 2), (3, 5)),
                                    ((3,), (5, 4), (5, 2), (3, 5))])
def test_bad_shapes_raise_value_error(path, shapes):
    q, k, v, p = shapes
    with pytest.raises(ValueError):
        load_solution(path).sparse_attention(np.ones(q, np.float32), np.ones(k, np.float32),
                                             np.ones(v, np.float32), ap.dense(*p))


# -- the patterns -----------------------------------------------------------------------
def mask_of(P: CSR) -> np.ndarray:
    return dense(P._replace(data=np.ones(P.indices.size))) != 0


@pytest.mark.parametrize("L", [0, 1, 2, 7, 33])
@pytest.mark.parametrize("w", [1, 2, 5, 8])
def test_windows_are_their_definitions(L, w):
    i, j = np.indices((L, L))
    assert np.array_equal(mask_of(ap.sliding_window(L, w)), np.abs(i - j) <= w // 2)
    assert np.array_equal(mask_of(ap.sliding_window(L, w, causal=True)), (j <= i) & (j > i - w))
    assert np.array_equal(mask_of(ap.causal(L)), j <= i) and mask_of(ap.dense(L)).all()
    g = [0, L // 2] if L else []
    want = (np.abs(i - j) <= w // 2) | np.isin(i, g) | np.isin(j, g)
    assert np.array_equal(mask_of(ap.window_global(L, w, g)), want)


@pytest.mark.parametrize("L, block", [(16, 4), (17, 4), (5, 8), (0, 3)])
def test_block_sparse_is_its_layout(L, block):
    nb = -(-L // block)
    layout = np.random.default_rng(L).random((nb, nb)) < 0.4
    i, j = np.indices((L, L))
    assert np.array_equal(mask_of(ap.block_sparse(L, block, layout)), layout[i // block, j // block] if L else
                          np.zeros((0, 0), bool))


def test_bigbird_has_window_global_and_random_blocks():
    L, b = 40 * 8, 8
    P = ap.bigbird(np.random.default_rng(0), L, block=b, window_blocks=3, global_blocks=2, random_blocks=3)
    blocks = mask_of(P).reshape(40, b, 40, b).any(axis=(1, 3))
    assert mask_of(P).reshape(40, b, 40, b).all(axis=(1, 3))[blocks].all()  # whole blocks only
    a = np.arange(40)
    assert blocks[np.abs(a[:, None] - a[None, :]) <= 1].all()  # the window
    assert blocks[:2].all() and blocks[:, :2].all()  # global blocks, both ways
    extra = blocks & ~(np.abs(a[:, None] - a[None, :]) <= 1)
    extra[:, :2] = False
    assert (extra[2:].sum(axis=1) == 3).all()  # three random blocks per non-global block row


def test_random_keys_and_every_named_pattern_are_canonical():
    rng = np.random.default_rng(1)
    P = ap.random_keys(rng, 30, 50, 8)
    assert P.shape == (30, 50) and (np.diff(P.indptr) <= 8).all() and canonical_problems(P) is None
    for name in ap.PATTERNS:
        for L in (0, 1, 100, 700):
            assert canonical_problems(ap.make(name, rng, L)) is None, (name, L)
    with pytest.raises(ValueError):
        ap.make("no such pattern", rng, 10)


def test_density_and_union():
    assert ap.density(ap.dense(7)) == 1.0 and ap.density(ap.dense(0)) == 0.0
    assert ap.density(ap.sliding_window(1000, 128)) == pytest.approx(129 / 1000, rel=0.07)
    u = ap.union(ap.sliding_window(20, 2), ap.causal(20))
    assert np.array_equal(mask_of(u), mask_of(ap.sliding_window(20, 2)) | mask_of(ap.causal(20)))


# -- the checker --------------------------------------------------------------------------
def _bench_like(L=400):
    rng = np.random.default_rng(3)
    args = SPEC.inputs(rng, ap.sliding_window(L, 128), 64, 64)
    return args, load_solution(PROBLEM.reference_path("numpy")).sparse_attention(*args)


def test_graded_scores_are_exact_and_plain_ones_are_not():
    rng = np.random.default_rng(0)
    for d in (1, 4, 16, 64, 256):
        assert SPEC.scores_are_exact(SPEC.grid(rng, (5, d), 2.0**9), SPEC.grid(rng, (7, d)))
    assert not SPEC.scores_are_exact(SPEC.grid(rng, (5, 8)), SPEC.grid(rng, (7, 8)))  # 1/√8 is not a power of 2
    assert not SPEC.scores_are_exact(rng.standard_normal((5, 16)).astype(np.float32), SPEC.grid(rng, (7, 16)))
    big = np.full((2, 64), 2.0**12, dtype=np.float32)
    assert not SPEC.scores_are_exact(big, big)  # sums past 2^24 grid units round


@pytest.mark.parametrize("wrong", ["zeros", "drop one key", "scale 1/d", "float16", "no scale", "NaN empty row"])
def test_checker_rejects_wrong_answers(wrong):
    args, out = _bench_like()
    Q, K, V, P = args
    if wrong == "drop one key":
        indptr = P.indptr.copy()
        keep = np.ones(P.indices.size, bool)
        keep[indptr[:-1]] = False  # each row loses its first key
        counts = np.diff(indptr) - 1
        Pd = CSR(np.r_[0, np.cumsum(counts)].astype(np.int32), P.indices[keep], np.ones(keep.sum()), P.shape)
        got = dense_oracle(Q, K, V, Pd).astype(np.float32)
    elif wrong == "scale 1/d":
        got = dense_oracle(Q / np.float32(8), K, V, P).astype(np.float32)
    elif wrong == "no scale":
        got = dense_oracle(Q * np.float32(8), K, V, P).astype(np.float32)
    elif wrong == "float16":
        got = dense_oracle(Q.astype(np.float16), K.astype(np.float16), V.astype(np.float16), P).astype(np.float16) \
            .astype(np.float32)
    elif wrong == "NaN empty row":
        args = (Q, K, V, ap.from_ranges(np.zeros(400), np.r_[np.zeros(1), np.full(399, 5)], 400))
        out = dense_oracle(*args).astype(np.float32)
        got = out.copy()
        got[0] = np.nan
    else:
        got = np.zeros_like(out)
    message = PROBLEM.check(args, out, got)
    assert message and "entries differ" in message, wrong


@pytest.mark.parametrize("got, reason", [(None, "returned NoneType"), (np.zeros((400, 63), np.float32), "shape"),
                                         (np.zeros((400, 64)), "dtype")])
def test_checker_rejects_wrong_containers(got, reason):
    args, out = _bench_like()
    assert reason in PROBLEM.check(args, out, got)


def test_tolerance_is_tight_at_the_benchmark_window():
    args, out = _bench_like()
    tol = SPEC.tolerance(args)
    assert np.median(tol) < 0.01 * np.median(np.abs(out)), "the tolerance would let real mistakes pass"
    assert np.all(SPEC.tolerance((args[0], args[1], args[2], ap.from_ranges(np.zeros(400), np.zeros(400), 400))) == 0)


def test_models_and_bench_inputs():
    args, _ = _bench_like()
    Q, K, V, P = args
    nnz = P.indices.size
    assert PROBLEM.flops_of(args) == 2 * nnz * 128 and PROBLEM.size_of(args) == nnz * 128
    assert PROBLEM.bytes_of(args) == 4 * 400 * 64 + 4 * 400 * 128 + 4 * (nnz + 401) + 4 * 400 * 64
    assert PROBLEM.gemm_dtype == "float32"
    for n, L in zip(PROBLEM.bench_sizes, SPEC.BENCH_L):
        Qb, Kb, Vb, Pb = PROBLEM.bench_args(np.random.default_rng(0), n) if L <= 2048 else (None,) * 4
        if Qb is None:
            continue
        assert Qb.shape == (L, 64) and Vb.shape == (L, 64) and Qb.dtype == np.float32
        assert np.array_equal(Pb.indptr, ap.sliding_window(L, 128).indptr)
        assert SPEC.scores_are_exact(Qb, Kb)


# -- the drill cards' formulas against the problems' own models ------------------------------
def test_card_formulas_agree_with_the_generators_and_the_models():
    from quiz.formulas import FORMULAS as F

    for L, w in [(8192, 128), (1000, 128), (50, 128), (7, 2), (1, 4)]:
        P = ap.sliding_window(L, w)
        assert F["window_density"](seq_len=L, window=w).value == pytest.approx(ap.density(P))
        args = (np.zeros((L, 64), np.float32), np.zeros((L, 64), np.float32), np.zeros((L, 32), np.float32), P)
        assert F["window_attention_flops"](seq_len=L, window=w, d=64, dv=32).value == PROBLEM.flops_of(args)
        assert F["window_scores_bytes"](seq_len=L, window=w, heads=3, value_bytes=2).value == 3 * 2 * P.indices.size
        assert F["three_pass_extra_bytes"](seq_len=L, window=w, value_bytes=4).value == 16 * P.indices.size
    scores = np.zeros((2, 300, 300), np.float16)
    assert F["dense_scores_bytes"](seq_len=300, heads=2, value_bytes=2).value == scores.nbytes
    sddmm = problems.get("sddmm")
    rng = np.random.default_rng(0)
    from problems._common import generators as gen

    S = gen.uniform(rng, 300, 200, per_row=7)
    args = (S, np.zeros((300, 16)), np.zeros((200, 16)), False)
    assert F["sddmm_bytes"](rows=300, cols=200, nnz=S.indices.size, d=16, index_bytes=4, value_bytes=8).value \
        == sddmm.bytes_of(args)
    assert F["sddmm_flops"](nnz=S.indices.size, d=16).value == sddmm.flops_of(args)
    assert F["sddmm_vs_dense_flops"](rows=300, cols=200, nnz=S.indices.size).value == pytest.approx(
        2 * 300 * 200 * 16 / sddmm.flops_of(args))


@pytest.mark.parametrize("L, block, width", [(16, 4, 3), (17, 4, 5), (5, 8, 3), (0, 3, 3), (30, 1, 1)])
def test_block_band_is_the_block_local_layout(L, block, width):
    nb = -(-L // block) if L else 0
    assert np.array_equal(mask_of(ap.block_band(L, block, width)),
                          mask_of(ap.block_sparse(L, block, ap.block_local(nb, width))))


def test_bigbird_scales_to_many_blocks():
    P = ap.bigbird(np.random.default_rng(0), 200_000, block=2, window_blocks=3, global_blocks=1, random_blocks=2)
    assert P.shape == (200_000, 200_000) and canonical_problems(P) is None
    assert np.diff(P.indptr.astype(np.int64))[2:].max() <= 2 * (3 + 1 + 2)  # window, global, random blocks
