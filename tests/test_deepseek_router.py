"""deepseek-router references against a pure-Python transcription of the statement (and of
DeepSeek-V3's formulas), the worked example, the balancing invariants and the checker."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness import problems
from tests.moe_oracles import reference

PROBLEM = problems.get("deepseek-router")
SPEC = PROBLEM.check.__globals__
REFS = {name: reference(name).deepseek_route for name in ("deepseek_router_numpy", "deepseek_router_numba")}
# The logits hypothesis draws from: no pair z, -z, since sigmoid(z) + sigmoid(-z) = 1 exactly in real
# arithmetic, and two groups holding such pairs would tie in exact arithmetic but not after rounding.
Z_GRID = [-2.75, -1.5, -0.25, 0.0, 0.5, 1.25, 2.0, 3.5]
OFFSETS = [0.0, 0.3, -1.5]  # a common bias (-1.5: every biased score negative)


def distinct_biases(E: int, offset: float) -> np.ndarray:
    """offset + (+-)2**(e - 18): two pairs of experts have equal bias sums only if they are the same pair,
    so swapping biases between groups cannot make sums that are equal in exact arithmetic."""
    return offset + np.array([(-1) ** e * 2.0 ** (e - 18) for e in range(E)])


def sigmoid(v: float) -> float:
    return 1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))


def route_py(logits, bias, k, G, M, S, alpha, gamma):
    """The statement, one token at a time, in plain Python floats."""
    T, E = len(logits), len(bias)
    n = E // G
    expert, gate, load = [], [], [0] * E
    for row in logits:
        s = [sigmoid(float(v)) for v in row]
        q = [s[i] + float(bias[i]) for i in range(E)]
        allowed = set(range(E))
        if G > 1:
            score = []
            for g in range(G):
                two = sorted(q[g * n:(g + 1) * n])[-2:]
                score.append(two[1] + two[0])
            kept = sorted(range(G), key=lambda g: (-score[g], g))[:M]
            allowed = {e for e in range(E) if e // n in kept}
        chosen = sorted(allowed, key=lambda e: (-q[e], e))[:k]
        total = math.fsum(s[e] for e in chosen)
        expert.append(chosen)
        gate.append([s[e] / total for e in chosen])
        for e in chosen:
            load[e] += 1
    new_bias = [float(bias[i]) + gamma * ((T * k > E * load[i]) - (T * k < E * load[i])) for i in range(E)]
    losses = []
    for start in range(0, T, S):
        rows = logits[start:start + S]
        count = [0] * E
        P = [0.0] * E
        for row in rows:
            for e in sorted(range(E), key=lambda e: (-float(row[e]), e))[:k]:
                count[e] += 1
            s = [sigmoid(float(v)) for v in row]
            total = math.fsum(s)
            for e in range(E):
                P[e] += s[e] / total / S
        losses.append(alpha * math.fsum(E / (k * S) * count[e] * P[e] for e in range(E)))
    loss = math.fsum(losses) / len(losses) if losses else 0.0
    return (np.array(expert, dtype=np.int64).reshape(T, k), np.array(gate).reshape(T, k), np.array(load),
            np.array(new_bias), loss)


def assert_same(got, want) -> None:
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_allclose(got[1], want[1], rtol=1e-12, atol=0)
    np.testing.assert_array_equal(got[2], want[2])
    np.testing.assert_allclose(got[3], want[3], rtol=1e-13, atol=1e-16)
    assert got[4] == pytest.approx(want[4], rel=1e-10, abs=1e-300)


@pytest.mark.parametrize("offset", OFFSETS)
@pytest.mark.parametrize("distinct", [False, True])
def test_the_grids_have_no_near_ties(offset, distinct):
    """Any two biased scores a token can compare (two experts), and any two group scores (two
    disjoint pairs of experts), are either bit-identical or differ by far more than rounding:
    the drawn cases have exact ties only."""
    E = 12
    b = distinct_biases(E, offset) if distinct else np.full(E, offset)
    single = sorted((sigmoid(z) + b[e], e) for z in Z_GRID for e in range(E))
    pairs = sorted((max(u, v) + min(u, v), {e1, e2})
                   for (u, e1), (v, e2) in itertools.combinations(single, 2) if e1 != e2)
    for values in (single, pairs):
        for i, (x, who) in enumerate(values):
            for y, whom in values[i + 1:]:
                if y - x >= 1e-12:
                    break
                comparable = who != whom if isinstance(who, int) else not who & whom
                assert not (comparable and y != x), (x, y)


@st.composite
def router_inputs(draw):
    E, G, M, k = draw(st.sampled_from([(4, 1, 1, 1), (4, 1, 1, 4), (6, 3, 1, 2), (8, 4, 2, 3), (8, 4, 2, 4),
                                       (12, 4, 3, 5), (9, 3, 3, 9), (16, 8, 1, 2)]))
    n_seq, S = draw(st.integers(0, 3)), draw(st.integers(1, 5))
    T = n_seq * S
    z = draw(st.lists(st.sampled_from(Z_GRID), min_size=T * E, max_size=T * E))
    offset, distinct = draw(st.sampled_from(OFFSETS)), draw(st.booleans())
    b = distinct_biases(E, offset) if distinct else np.full(E, offset)
    alpha, gamma = draw(st.sampled_from([(1e-4, 1e-3), (1.0, 0.5)]))
    return np.array(z, dtype=np.float64).reshape(T, E), b, k, G, M, S, alpha, gamma


@pytest.mark.parametrize("name", REFS)
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=router_inputs())
def test_reference_matches_the_statement(name, case):
    assert_same(REFS[name](*case), route_py(*case))


@pytest.mark.parametrize("name", REFS)
@pytest.mark.parametrize("case", [c.name for c in PROBLEM.edge_cases])
def test_edge_cases_match_the_statement(name, case):
    (c,) = [c for c in PROBLEM.edge_cases if c.name == case]
    args = c.make(np.random.default_rng(0))
    assert_same(REFS[name](*args), route_py(np.asarray(args[0], dtype=np.float64), *args[1:]))


@pytest.mark.parametrize("name", REFS)
@pytest.mark.parametrize("T", [10, 1000])
def test_random_cases_match_the_statement(name, T):
    args = PROBLEM.make_random(np.random.default_rng(T), T)
    assert_same(REFS[name](*args), route_py(*args))


def edge_case(name):
    (c,) = [c for c in PROBLEM.edge_cases if c.name == name]
    return c.make(np.random.default_rng(0))


@pytest.mark.parametrize("name", REFS)
def test_worked_example(name):
    expert, gate, load, new_bias, loss = REFS[name](*edge_case("worked example"))
    np.testing.assert_array_equal(expert, [[5, 0], [5, 1], [4, 7], [5, 0]])
    s1, s2 = sigmoid(1.0), sigmoid(2.0)
    np.testing.assert_allclose(gate, [[s1 / (s1 + s2), s2 / (s1 + s2)], [0.5 / (0.5 + s1), s1 / (0.5 + s1)],
                                      [0.5, 0.5], [0.5, 0.5]], rtol=1e-14)
    np.testing.assert_array_equal(load, [2, 1, 0, 0, 1, 3, 0, 1])
    np.testing.assert_allclose(new_bias, [-0.001, 0, 0.001, 0.001, 0, 0.299, 0.001, 0], rtol=1e-15, atol=1e-18)
    printed = {"gate": [0.4536, 0.5464, 0.4062, 0.5938, 0.5, 0.5, 0.5, 0.5], "loss": "0.00011165"}
    assert [round(v, 4) for v in gate.ravel()] == printed["gate"] and f"{loss:.8f}" == printed["loss"]
    assert f"{loss:.4e}" == "1.1165e-04"  # as the statement's prose writes it


def test_balance_loss_is_alpha_at_perfect_balance():
    # every token's plain top-1 is a different expert and all affinities are equal in P's sense
    z = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]])
    loss = REFS["deepseek_router_numpy"](z, np.zeros(4), 1, 1, 1, 4, 0.25, 0.0).balance_loss
    assert loss == pytest.approx(0.25, rel=1e-14)  # f = 1 for every expert, sum P = 1
    collapsed = REFS["deepseek_router_numpy"](np.tile([10.0, -10, -10, -10], (4, 1)), np.zeros(4), 1, 1, 1, 4, 1.0, 0)
    assert 3.99 < collapsed.balance_loss < 4  # everything on expert 0: f_0 = E = 4, P_0 near 1


@pytest.mark.parametrize("name", REFS)
def test_the_bias_changes_choices_not_gates(name):
    z, b, k, G, M, S, alpha, gamma = PROBLEM.make_random(np.random.default_rng(3), 100)
    plain = REFS[name](z, np.zeros_like(b), k, G, M, S, alpha, gamma)
    pushed = np.zeros_like(b)
    pushed[-1] = 5.0  # the last expert now wins every token it can reach
    biased = REFS[name](z, pushed, k, G, M, S, alpha, gamma)
    assert biased.load[-1] > plain.load[-1] and biased.balance_loss == plain.balance_loss
    s = 1 / (1 + np.exp(-z))
    chosen = np.take_along_axis(s, biased.expert, 1)
    np.testing.assert_allclose(biased.gate, chosen / chosen.sum(1, keepdims=True), rtol=1e-12)


@pytest.mark.parametrize("name", REFS)
def test_repeated_bias_updates_balance_the_load(name):
    """Iterating the update on a skewed router shrinks the load imbalance: the controller works."""
    rng = np.random.default_rng(5)
    z = rng.standard_normal((2048, 16)) + np.linspace(1.5, -1.5, 16)  # expert 0 favoured, 15 neglected
    b = np.zeros(16)
    first = None
    for _ in range(150):
        r = REFS[name](z, b, 2, 4, 2, 2048, 1e-4, 0.01)
        first = r.load.max() / r.load.mean() if first is None else first
        b = r.new_bias
    assert r.load.max() / r.load.mean() < 1.2 < first


def test_group_limit_caps_the_groups_a_token_reaches():
    args = edge_case("DeepSeek-V3 sizes")
    expert = REFS["deepseek_router_numba"](*args).expert
    assert max(len(set((row // 32).tolist())) for row in expert) <= 4


# -- the checker ------------------------------------------------------------------------
def test_checker_accepts_the_oracle_and_rejects_each_field():
    args = edge_case("worked example")
    want = REFS["deepseek_router_numpy"](*args)
    assert PROBLEM.check(args, want, tuple(want)) is None
    bad_expert = want.expert.copy()
    bad_expert[0] = [0, 5]
    assert "expert" in PROBLEM.check(args, want, want._replace(expert=bad_expert)).splitlines()[0]
    assert "gate" in PROBLEM.check(args, want, want._replace(gate=want.gate[:, ::-1].copy())).splitlines()[0]
    assert "load" in PROBLEM.check(args, want, want._replace(load=want.load + 1)).splitlines()[0]
    assert "new_bias" in PROBLEM.check(args, want, want._replace(new_bias=want.new_bias + 1e-3)).splitlines()[0]
    assert "balance_loss" in PROBLEM.check(args, want, want._replace(balance_loss=0.0))
    assert "float64" in PROBLEM.check(args, want, want._replace(gate=want.gate.astype(np.float32)))


def test_editorial_numbers_at_deepseek_v3_sizes():
    text = (PROBLEM.folder / "editorial.md").read_text(encoding="utf-8")
    assert 3 * 7168 * 2048 == 44_040_192 and "44.04M" in text and 61 - 3 == 58
    assert f"{math.comb(256, 8):.1e}" == "4.1e+14" and f"{math.comb(128, 8):.1e}" == "1.4e+12"
    miss = math.comb(224, 8) / math.comb(256, 8)
    assert f"{8 * (1 - miss):.2f}" == "5.29" and "5.29" in text
    router, experts = 2 * 7168 * 256, 9 * 3 * 2 * 7168 * 2048
    assert f"{router / 1e6:.2f}" == "3.67" and f"{experts / 1e6:.1f}" == "792.7"
    assert f"{100 * router / experts:.2f}" == "0.46" and "0.46%" in text
