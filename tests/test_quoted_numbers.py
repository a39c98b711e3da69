"""Numbers quoted in statements and editorials, recomputed (the quiz's tests do the same for cards).

Each entry of QUOTES names a file, a piece of its text with `{...}` format fields where the
numbers stand, and a function that computes those numbers. The test renders the text from
the computed numbers and requires it to appear in the file (whitespace, line breaks and
Markdown indentation aside). So a number edited in the text, or a formula or input that
changes under it, fails here. A second test checks that every entry would notice: nudging
any one of its numbers renders a text the file does not contain.

Computations use independent routes where one exists (the pure-Python router of
tests/moe_oracles.py, scipy, the quiz's formulas, the problems' own generators), and the
NumPy references where the number is a reference output (moe-backward's worked example).
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from functools import cache

import numpy as np
import pytest
import scipy.sparse as sp

from harness import ROOT
from quiz.formulas import FORMULAS, _seed_note_product
from tests.moe_oracles import forward_dense, reference, route_py


@dataclass(frozen=True)
class Quote:
    path: str  # relative to the repository root
    text: str  # the quoted text, with a format field for each computed number
    compute: Callable[[], tuple]  # the numbers, in the order of the fields

    def render(self, values: tuple | None = None) -> str:
        return self.text.format(*(self.compute() if values is None else values))


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@cache
def read(path: str) -> str:
    return normalise((ROOT / path).read_text(encoding="utf-8"))


# -- the computations ---------------------------------------------------------------------
MIXTRAL = dict(layers=32, d_model=4096, d_ff=14336, experts=8, top_k=2, heads=32, kv_heads=8, vocab=32000)
SPMM_CARD = dict(rows=1_000_000, cols=1_000_000, nnz=10_000_000, index_bytes=4, value_bytes=8)


def aux_counterexample():
    logits = np.array([[0.03, 0.0, 0.0], [-30.0, 0.0002, 0.0]])
    _, _, _, aux, _ = route_py(logits, 1, None)
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    P = (p / p.sum(axis=1, keepdims=True)).mean(axis=0)
    return (*P, aux)


def router_example():
    z = np.array([[2.0, 1.0, 0.0, -1.0], [2.0, 0.0, 1.0, -1.0], [1.0, 3.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    return z, route_py(z, 2, 1.0), route_py(z, 1, 1.0)


def router_example_probs():
    z = router_example()[0]
    p = np.exp(z - z.max(axis=1, keepdims=True))
    return (p / p.sum(axis=1, keepdims=True)).mean(axis=0)


def router_sizes():
    D, H, E, k = 512, 1024, 8, 2
    expert, router = 2 * D * H, D * E
    total, active = E * expert + router, k * expert + router
    flops = 2 * D * E + 2 * k * expert
    dense_same_total = 4 * D * (E * H)
    return expert, router, total, active, active / total, 2 * D * E, 2 * k * expert, flops / 1e6, dense_same_total


def forward_example():
    x = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    w_router = np.array([[1.0, 0.0], [0.0, 2.0]])
    w1 = np.array([np.eye(2), [[1.0, -1.0], [0.0, 1.0]]])
    w2 = np.array([np.eye(2), 2 * np.eye(2)])
    return x, w_router, w1, w2


def backward_example():
    x, w_router, w1, w2 = forward_example()
    dx, dw_router, dw1, dw2 = reference("moe_backward_numpy").moe_backward(
        x, w_router, w1, w2, 1, np.ones((3, 2)), 0.5, 0.0, 0.0)
    return dx, dw_router, dw1, dw2


def tiny_lm():
    from tinylm import model as M
    cfg = M.Config(vocab_size=65)
    counts = M.param_counts(cfg)
    return counts["total"] / 1e6, counts["active"] / 1e6, cfg.dense_hidden


EXAMPLE = np.array([[0, 0, 0, 0], [0, 5, 0, 0], [0, 0, 0, 7], [0, 0, 0, 0]], dtype=float)  # the seed note's


def example_csr(transpose=False):
    a = sp.csr_array(EXAMPLE)
    if transpose:
        a = sp.csr_array(a.T)
    return a.indptr.tolist(), a.indices.tolist(), [int(v) for v in a.data]


def seed_note_smear():
    trips = [[1, 1, 5], [2, 3, 7]]
    got = _seed_note_product(trips, trips, [4, 4])
    parts = []
    for i, row in enumerate(got):
        spots = [j for j, v in enumerate(row) if v]
        if spots:
            parts.append(f"{int(row[spots[0]])} at " + ", ".join(f"({i}, {j})" for j in spots))
    return (" and ".join(parts),)


def speedrun_floor():
    from tinylm.data import MarkovMixture
    mix = MarkovMixture()
    chunk = 1_024  # problems/moe-lm-speedrun/spec.py CHUNK, checked below
    bits = math.log2(mix.n_sources)
    return 1 + round(1 / mix.switch), round(1 / mix.switch), mix.n_sources, bits, bits, chunk - 1, bits / (chunk - 1)


def spmm_intensities():
    spmv = FORMULAS["spmv_intensity"](**SPMM_CARD).value
    spmm = FORMULAS["spmm_intensity"](k=16, **SPMM_CARD).value
    cap = 2 * SPMM_CARD["nnz"] / (8 * (SPMM_CARD["rows"] + SPMM_CARD["cols"]))
    return spmv, spmm, spmm / spmv, cap


def core_balance():
    flops_avx2 = 2 * 4 * 2  # two FMA units, 4 doubles per ymm, 2 flops per FMA
    flops_avx512 = 2 * 8 * 2
    ghz, gbs = 3, 10
    return (flops_avx2 * ghz / gbs, flops_avx512 * ghz / gbs, flops_avx2, flops_avx2 * ghz, flops_avx512,
            flops_avx512 * ghz)


# -- the table ----------------------------------------------------------------------------
R, RE = "problems/moe-router/README.md", "problems/moe-router/editorial.md"
F, FE = "problems/moe-forward/README.md", "problems/moe-forward/editorial.md"
B = "problems/moe-backward/README.md"
L, LE = "problems/moe-lm-loss/README.md", "problems/moe-lm-loss/editorial.md"
SR, SE = "problems/moe-lm-speedrun/README.md", "problems/moe-lm-speedrun/editorial.md"

QUOTES = [
    # moe-router: the aux-loss counterexample, the worked count, the worked example
    Quote(R, "P ≈ ({:.2f}, {:.3f}, {:.3f}) and aux ≈ {:.3f}", aux_counterexample),
    Quote(RE, "f = (½, ½, 0), aux ≈ {:.3f})", lambda: aux_counterexample()[3:]),
    Quote(R, "| one expert | 2·D·H = {:,} | |", lambda: router_sizes()[:1]),
    Quote(R, "| router | D·E = {:,} | |", lambda: router_sizes()[1:2]),
    Quote(R, "| **total** (8 experts + router) | **{:,}** | |", lambda: router_sizes()[2:3]),
    Quote(R, "| **active** (2 experts + router) | **{:,}** ({:.0%} of total) | |", lambda: router_sizes()[3:5]),
    Quote(R, "router 2·D·E = {:,}; experts 2·k·(2·D·H) = {:,}; **≈ {:.1f} MFLOP**", lambda: router_sizes()[5:8]),
    Quote(R, "costs 4·D·8H ≈ {:.1f} MFLOP per token, {:.0f}× more",
          lambda: (router_sizes()[8] / 1e6, router_sizes()[8] / (router_sizes()[7] * 1e6))),
    Quote(R, "Mixtral 8x7B holds {:.1f}B parameters but uses {:.1f}B per token",
          lambda: (FORMULAS["decoder_moe_total_params"](**MIXTRAL).value / 1e9,
                   FORMULAS["decoder_moe_active_params"](**MIXTRAL).value / 1e9)),
    Quote(R, "# gate = [[{:.4f}, {:.4f}], [{:.4f}, {:.4f}], [{:.4f}, {:.4f}], [{}, {}]]",
          lambda: tuple(router_example()[1][1].ravel())),
    Quote(R, "# aux_loss = {:.4f}, z_loss = {:.4f}", lambda: router_example()[1][3:]),
    Quote(R, "C = ceil(1.0 · 4 · 2 / 4) = {}.", lambda: (math.ceil(1.0 * 4 * 2 / 4),)),
    Quote(R, "P = [{:.4f}, {:.4f}, {:.4f}, {:.4f}]; aux_loss = 4·(0.75·{:.4f} + 0.25·{:.4f}) = {:.4f}.",
          lambda: (*router_example_probs(), *router_example_probs()[:2], router_example()[1][3])),
    Quote(R, "With k = 1 the gates would be the raw probabilities {:.4f}, {:.4f}, {:.4f}, {}.",
          lambda: tuple(router_example()[2][1].ravel())),
    Quote(RE, "overflows at z ≈ {:.0f} in float64 (≈ {:.0f} in float32)",
          lambda: (math.log(np.finfo(np.float64).max), math.log(np.finfo(np.float32).max))),
    # moe-forward and moe-backward: the worked example
    Quote(F, "# y = [[{:.4f}, 0], [0, {:.4f}], [0, 0]]",
          lambda: (forward_dense(*forward_example(), 1, 0.5)[0, 0], forward_dense(*forward_example(), 1, 0.5)[1, 1])),
    Quote(F, "C = ceil(0.5·3·1/2) = {}, so", lambda: (math.ceil(0.5 * 3 * 1 / 2),)),
    Quote(F, "gate p = e/(e+1) = {:.4f} (raw, k = 1)", lambda: (math.e / (math.e + 1),)),
    Quote(F, "gate e²/(e²+1) = {:.4f}", lambda: (math.e**2 / (math.e**2 + 1),)),
    Quote(F, "times the gate = [0, {:.4f}]", lambda: (forward_dense(*forward_example(), 1, 0.5)[1, 1],)),
    Quote(F, "token 2 would get {:.4f} · [2, 0] = [{:.4f}, 0]",
          lambda: (math.e / (math.e + 1), forward_dense(*forward_example(), 1, None)[2, 0])),
    Quote(FE, "E/k times the necessary arithmetic ({}× for 8 experts, top-2)", lambda: (8 // 2,)),
    Quote(B, "dw2[0] = [[{:.4f}, {:.4f}], [0, 0]]", lambda: tuple(backward_example()[3][0, 0])),
    Quote(B, "dw2[1] = [[0, 0], [{:.4f}, {:.4f}]]", lambda: tuple(backward_example()[3][1, 1])),
    Quote(B, "dw1[0] = [[{:.4f}, 0], [0, 0]]", lambda: (backward_example()[2][0, 0, 0],)),
    Quote(B, "dw_router = [[{:.4f}, {:.4f}], [{:.4f}, {:.4f}]]", lambda: tuple(backward_example()[1].ravel())),
    Quote(B, "dx = [[{:.4f}, {:.4f}], [{:.4f}, {:.4f}], [0, 0]]", lambda: tuple(backward_example()[0][:2].ravel())),
    Quote(B, "dL/dlogits = p₀(1 − p₀)·[1, −1] = [{:.4f}, −{:.4f}]",
          lambda: (math.e / (math.e + 1) ** 2, math.e / (math.e + 1) ** 2)),
    Quote(B, "Work per kept assignment is about {:.1f}× the forward's", lambda: (10 / 4,)),
    # moe-lm-loss
    Quote(L, "aux = 2 · (2/3 · 0.5 + 1/3 · 0.5) = {:.1f}", lambda: (2 * (2 / 3 * 0.5 + 1 / 3 * 0.5),)),
    Quote(L, "C = ceil(0.5 · 3 · 1 / 2) = {}: token 1's", lambda: (math.ceil(0.5 * 3 * 1 / 2),)),
    Quote(LE, "has {:.2f}M parameters, of which {:.2f}M are active", lambda: tiny_lm()[:2]),
    Quote(LE, "(one FFN of {} hidden units)", lambda: tiny_lm()[2:]),
    Quote(LE, "the router costs D·E = {:,} multiply-adds and k = 2 experts cost 2 · 2 · D · H = {:,}; "
              "the attention projections 4·D² = {:,}", lambda: (128 * 8, 2 * 2 * 128 * 256, 4 * 128**2)),
    Quote(LE, "the block holds 8 · 2 · D · H = {:,} expert weights", lambda: (8 * 2 * 128 * 256,)),
    Quote(LE, "the expert cost is E/k = {} times higher", lambda: (8 // 2,)),
    # moe-lm-speedrun: why floor_bpc is a bound
    Quote(SR, "segments average {} characters, a tag and 1/switch = {} letters), and until its first tag even "
              "the best possible predictor, a Bayes mixture over the K = {} sources", lambda: speedrun_floor()[:3]),
    Quote(SR, "That costs at most log₂ K = {:.0f} bits per chunk", lambda: speedrun_floor()[3:4]),
    Quote(SR, "{:.0f}/{:,} ≈ {:.3f} bits/char", lambda: speedrun_floor()[4:]),
    Quote(SE, "loses at most log₂ 4 = {:.0f} bits per chunk", lambda: speedrun_floor()[3:4]),
    # sparse formats and products
    Quote("problems/coo-to-csr/README.md", "For the example: `indptr = {}`, `indices = {}`, `data = {}`",
          example_csr),
    Quote("problems/coo-to-csr/README.md", "COO takes {}·nnz bytes, CSR {}·nnz + {}·(rows+1)",
          lambda: (FORMULAS["coo_bytes"](nnz=1, index_bytes=4, value_bytes=8).value,
                   FORMULAS["csr_bytes"](rows=0, nnz=1, index_bytes=4, value_bytes=8).value - 4,
                   FORMULAS["csr_bytes"](rows=0, nnz=0, index_bytes=4, value_bytes=8).value)),
    Quote("problems/csr-transpose/README.md", "and 7 at (3, 2): `indptr = {}`, `indices = {}`, `data = {}`",
          lambda: example_csr(transpose=True)),
    Quote("problems/spmv/README.md", "row 1: 5·x[1] = {:.0f}, row 2: 7·x[3] = {:.0f}",
          lambda: tuple((sp.csr_array(EXAMPLE) @ np.array([1.0, 2.0, 3.0, 4.0]))[1:3])),
    Quote("problems/spmv/editorial.md", "an arithmetic intensity of {} flop/byte", lambda: (Fraction(2, 12),)),
    Quote("problems/spmv/editorial.md", "one core can do about {:.0f}–{:.0f} FP64 flops per byte it loads from "
                                        "memory ({} flops per cycle with two AVX2 FMA units at 3 GHz is {} GFLOP/s, "
                                        "{} with AVX-512 is {} GFLOP/s", core_balance),
    Quote("problems/spmm/README.md", "runs at {:.3f} FLOP/B as SpMV and {:.3f} FLOP/B as SpMM with k = 16, {:.1f}×",
          lambda: spmm_intensities()[:3]),
    Quote("problems/spmm/README.md", "(rows + cols)) = {:.2f} FLOP/B here", lambda: spmm_intensities()[3:]),
    Quote("problems/spmm/editorial.md", "(8·k bytes, {} B at k = 64)", lambda: (8 * 64,)),
    Quote("problems/spmm/editorial.md", "32 doubles are {} ymm or {} zmm", lambda: (32 // 4, 32 // 8)),
    Quote("problems/spmm/editorial.md", "AVX-512 holds even k = 64 in {} zmm", lambda: (64 // 8,)),
    Quote("problems/spgemm/README.md", "a dense 37,500 × 37,500 matrix ({:.0f} GB)", lambda: (37_500**2 * 8 / 1e9,)),
    Quote("problems/spgemm/README.md", "# CSR(indptr={}, indices={}, data={}, shape=(4, 4))",
          lambda: (lambda c: (c.indptr.tolist(), c.indices.tolist(), c.data.tolist()))(
              sp.csr_array(EXAMPLE) @ sp.csr_array(EXAMPLE))),
    Quote("problems/spgemm/editorial.md", "The note's loops produce {}: `(2, 3, 7)`", seed_note_smear),
    Quote("problems/spgemm/editorial.md", "Of the 16 entries {} are wrong",
          lambda: (FORMULAS["seed_q3_wrong_entries"](a=[[1, 1, 5], [2, 3, 7]], b=[[1, 1, 5], [2, 3, 7]],
                                                     shape=[4, 4]).value,)),
    Quote("problems/spgemm/editorial.md", "where the note made 2·3·2 = {} comparisons", lambda: (2 * 3 * 2,)),
    Quote("problems/spgemm/examples/seed_note.py", "it fills {}: wrong",
          lambda: (seed_note_smear()[0].replace(" at ", " into "),)),
]


def decode_experts(batch=8):
    return (FORMULAS["experts_touched"](experts=8, top_k=2, batch=batch).value,)


QUOTES += [
    # quiz card text that is not itself a computed answer
    Quote("quiz/cards/tradeoffs.toml", "experts (about {:.1f} of Mixtral's 8 per layer at batch 8", decode_experts),
    Quote("quiz/cards/tradeoffs.toml", "At batch 1 a step reads {:.0f} experts; by batch 8 it reads about {:.1f} of "
                                       "Mixtral's 8", lambda: (*decode_experts(1), *decode_experts(8))),
    Quote("quiz/cards/matmul.toml", "here {:.1f} times SpMV's {:.4f} FLOP/B at k = 16",
          lambda: (spmm_intensities()[2], spmm_intensities()[0])),
    Quote("quiz/cards/matmul.toml", "2·nnz/(8·(rows + cols)) = {:.2f} FLOP/B", lambda: spmm_intensities()[3:]),
]


@pytest.mark.parametrize("quote", QUOTES, ids=[f"{q.path.split('/')[1]}: {q.text[:40]}" for q in QUOTES])
def test_quoted_number_is_in_the_file_and_equals_its_computation(quote):
    rendered = normalise(quote.render())
    assert rendered in read(quote.path), f"{quote.path} should contain: {rendered}"


def _nudges(value):
    """Values near `value`, nearest first."""
    if isinstance(value, str):
        return [value + "."]
    if isinstance(value, list):
        return [value + [0]]
    if isinstance(value, Fraction):
        return [value + Fraction(1, 7)]
    if isinstance(value, int | np.integer):
        return [int(value) + 1]
    return [float(value) * f for f in (1.01, 1.05, 1.2, 1.5, 2.0, 3.0, 10.0)] + [float(value) + 1.0]


@pytest.mark.parametrize("quote", QUOTES, ids=[f"{q.path.split('/')[1]}: {q.text[:40]}" for q in QUOTES])
def test_a_drifted_number_would_fail(quote):
    """For each number: the nearest nudge that shows at the quoted precision renders a text the
    file does not contain (the entry is not matched by some other place in the file)."""
    values = tuple(quote.compute())
    assert values and quote.text.count("{") == len(values), "one format field per computed number"
    here = quote.render(values)
    for i in range(len(values)):
        drifted = next(d for d in (values[:i] + (v,) + values[i + 1:] for v in _nudges(values[i]))
                       if quote.render(d) != here)
        assert normalise(quote.render(drifted)) not in read(quote.path), (quote.text, i)


def test_the_speedrun_chunk_is_the_graders():
    from harness import problems
    from harness.problems import load_module
    spec = load_module(problems.get("moe-lm-speedrun").folder / "spec.py")
    assert spec.CHUNK == 1_024


def test_speedrun_bayes_mixture_stays_within_the_quoted_bound_of_the_floor():
    """The statement's claim, checked on a sample: a Bayes mixture over the sources, run on each
    1,024-character chunk from scratch (the grader's scoring), exceeds the floor (the true model
    given the source) by at most -log P(true source | first character) on every chunk, and by
    under log2 K bits per chunk on average."""
    from tinylm.data import MarkovMixture
    mix = MarkovMixture(seed=3)
    K, A = mix.n_sources, mix.n_letters
    P, nxt = mix.next_symbol_probs()
    S = P.shape[0]
    M = np.zeros((S, S))
    np.add.at(M, (np.repeat(np.arange(S), P.shape[1]), nxt.reshape(-1)), P.reshape(-1))
    pi = np.linalg.lstsq(np.vstack([M.T - np.eye(S), np.ones((1, S))]), np.eye(S + 1)[-1], rcond=None)[0]
    text, source, nll = mix.sample(150_000, np.random.default_rng(4))
    alphabet = "abcdefghijklmnopqrstuvwxyz"[:A] + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[:K]
    symbols = np.array([alphabet.index(c) for c in text])
    excess = []
    for start in range(0, symbols.size - 1, 1_024):
        ids = symbols[start:start + 1_024]
        belief = np.zeros(S)
        if ids[0] >= A:  # a tag: the state is known
            belief[K * A + ids[0] - A] = 1.0
        else:  # a letter: the source is not; weigh each by the stationary odds of (source, letter)
            belief[np.arange(K) * A + ids[0]] = pi[np.arange(K) * A + ids[0]]
            belief /= belief.sum()
        weight = belief[source[start] * A + ids[0]] if ids[0] < A else 1.0
        total = 0.0
        for x in ids[1:]:
            w = belief * P[:, x]
            total -= math.log(w.sum())
            belief = np.zeros(S)
            np.add.at(belief, nxt[:, x], w / w.sum())
        gap = total - float(nll[start + 1:start + ids.size].sum())
        assert gap <= -math.log(weight) + 1e-9
        excess.append(gap)
    per_chunk_bits = np.mean(excess) / math.log(2)
    assert 0 < per_chunk_bits < math.log2(K)
