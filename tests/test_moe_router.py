"""moe-router references against the statement's pure-Python router, the worked example,
the named edge cases and the routing invariants."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness import problems
from problems._common import moe
from tests.moe_oracles import reference, route_py

REFS = {name: reference(name).route for name in ("moe_router_numpy", "moe_router_numba")}
PROBLEM = problems.get("moe-router")


def edge_case(name: str) -> tuple:
    (case,) = [c for c in PROBLEM.edge_cases if c.name == name]
    return case.make(np.random.default_rng(0))


def assert_same_routing(got, want) -> None:
    expert, gate, kept, aux, z = got
    np.testing.assert_array_equal(expert, want[0])
    np.testing.assert_array_equal(kept, want[2])
    np.testing.assert_allclose(gate, want[1], rtol=1e-12, atol=1e-15)
    assert aux == pytest.approx(want[3], rel=1e-12, abs=1e-15)
    assert z == pytest.approx(want[4], rel=1e-12, abs=1e-15)


@st.composite
def router_inputs(draw):
    T = draw(st.integers(0, 40))
    E = draw(st.integers(1, 9))
    k = draw(st.integers(1, E))
    cf = draw(st.sampled_from([None, 0.05, 0.5, 1.0, 1.25, 3.0]))
    levels = draw(st.integers(1, 6))  # few distinct values: many ties
    values = draw(st.lists(st.integers(-levels, levels), min_size=T * E, max_size=T * E))
    return np.array(values, dtype=np.float64).reshape(T, E) * 0.75, k, cf


@pytest.mark.parametrize("name", REFS)
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=router_inputs())
def test_reference_matches_the_statement(name, case):
    logits, k, cf = case
    assert_same_routing(REFS[name](logits, k, cf), route_py(logits, k, cf))


@pytest.mark.parametrize("name", REFS)
@pytest.mark.parametrize("case", [c.name for c in PROBLEM.edge_cases])
def test_edge_cases_match_the_statement(name, case):
    logits, k, cf = edge_case(case)
    assert_same_routing(REFS[name](logits, k, cf), route_py(np.asarray(logits, dtype=np.float64), k, cf))


@pytest.mark.parametrize("name", REFS)
def test_worked_example(name):
    expert, gate, kept, aux, z = REFS[name](*edge_case("worked example"))
    np.testing.assert_array_equal(expert, [[0, 1], [0, 2], [1, 0], [0, 1]])
    np.testing.assert_array_equal(kept, [[True, True], [True, True], [True, False], [False, False]])
    e = math.e
    np.testing.assert_allclose(gate, [[e / (e + 1), 1 / (e + 1)], [e / (e + 1), 1 / (e + 1)],
                                      [e**2 / (e**2 + 1), 1 / (e**2 + 1)], [0.5, 0.5]], rtol=1e-14)
    s01 = e**2 + e + 1 + 1 / e  # sum of exp over tokens 0 and 1's logits
    s2 = e + e**3 + 2
    P0 = (2 * e**2 / s01 + e / s2 + 0.25) / 4
    P1 = ((e + 1) / s01 + e**3 / s2 + 0.25) / 4
    assert aux == pytest.approx(4 * (0.75 * P0 + 0.25 * P1), rel=1e-14)
    assert z == pytest.approx((2 * math.log(s01) ** 2 + (1 + math.log(s2 / e)) ** 2 + math.log(4) ** 2) / 4,
                              rel=1e-14)


@pytest.mark.parametrize("name", REFS)
def test_ties_go_to_the_lower_index(name):
    expert = REFS[name](*edge_case("ties"))[0]
    np.testing.assert_array_equal(expert, [[1, 2], [0, 1], [0, 1], [1, 3]])


@pytest.mark.parametrize("name", REFS)
def test_huge_logits_are_stable_and_ranked_by_logit(name):
    logits, k, cf = edge_case("logits of +-1e4, k = 2")
    expert, gate, kept, aux, z = REFS[name](logits, k, cf)
    assert np.isfinite(gate).all() and math.isfinite(aux) and math.isfinite(z)
    np.testing.assert_array_equal(expert[4], [0, 3])  # 1e4 - 1e-8 is not a tie with 1e4
    np.testing.assert_array_equal(expert[5], [1, 2])  # exp(0 - 1e4) == exp(-5 - 1e4) == 0.0, yet 0 > -5
    assert gate[0, 0] == pytest.approx(1 / (1 + math.exp(-0.5)), rel=1e-14)
    lse = [1e4 + math.log1p(math.exp(-0.5)), -9990 + math.log1p(3 * math.exp(-10)), 1e4 + math.log(2),
           1e4, 1e4 + math.log(1 + math.exp(-2) + math.exp(-1e-8)), 1e4]
    assert z == pytest.approx(sum(v * v for v in lse) / 6, rel=1e-12)


@pytest.mark.parametrize("name", REFS)
def test_k_equals_E_gates_are_the_softmax(name):
    logits, k, cf = edge_case("k = E")
    expert, gate, kept, _, _ = REFS[name](logits, k, cf)
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(gate, np.take_along_axis(p, expert, axis=1), rtol=1e-13)
    assert kept.all()


@pytest.mark.parametrize("name", REFS)
@pytest.mark.parametrize("T,E,k,cf", [(3, 8, 2, 1.0), (64, 4, 2, 0.05), (40, 4, 1, 1.25), (9, 3, 3, 0.3)])
def test_capacity_invariants(name, T, E, k, cf):
    """At most C kept per expert; a dropped assignment found C assignments of higher priority."""
    logits = np.random.default_rng(T).standard_normal((T, E))
    expert, gate, kept, _, _ = REFS[name](logits, k, cf)
    C = moe.capacity(cf, T, k, E)
    assert all(np.sum(kept & (expert == e)) <= C for e in range(E))
    for j in range(k):
        for t in range(T):
            e = expert[t, j]
            ahead = np.sum(expert[:, :j] == e) + np.sum(expert[:t, j] == e)  # higher priority
            assert kept[t, j] == (ahead < C)


@pytest.mark.parametrize("name", REFS)
def test_capacity_at_least_T_drops_nothing(name):
    logits, k, cf = edge_case("capacity >= T: nothing dropped")
    assert moe.capacity(cf, logits.shape[0], k, logits.shape[1]) >= logits.shape[0]
    got, free = REFS[name](logits, k, cf), REFS[name](logits, k, None)
    assert got[2].all()
    assert_same_routing(got, free)


@pytest.mark.parametrize("name", REFS)
def test_aux_loss_is_1_at_balance_and_E_at_collapse(name):
    E = 4
    balanced = np.eye(E) * 3.0  # token t prefers expert t; mean probabilities are uniform
    assert REFS[name](balanced, 1, None)[3] == pytest.approx(1.0, rel=1e-14)
    collapsed = np.zeros((8, E))
    collapsed[:, 2] = 1e4  # every token, with probability 1, to expert 2
    assert REFS[name](collapsed, 1, None)[3] == pytest.approx(E, rel=1e-12)


@pytest.mark.parametrize("name", REFS)
def test_aux_loss_counts_first_choices_before_dropping(name):
    logits, k, cf = edge_case("skewed: one expert is everyone's 1st choice")
    expert, _, kept, aux, _ = REFS[name](logits, k, cf)
    assert (expert[:, 0] == 2).all() and not kept[:, 0].all()
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    assert aux == pytest.approx(4 * p[:, 2].mean(), rel=1e-13)  # f = [0, 0, 1, 0]


@pytest.mark.parametrize("name", REFS)
def test_zero_tokens(name):
    expert, gate, kept, aux, z = REFS[name](np.zeros((0, 4)), 2, 1.25)
    assert expert.shape == gate.shape == kept.shape == (0, 2)
    assert (aux, z) == (0.0, 0.0)


@pytest.mark.parametrize("name", REFS)
def test_float32_logits_route_as_their_float64_values(name):
    logits, k, cf = edge_case("float32 logits")
    assert logits.dtype == np.float32
    assert_same_routing(REFS[name](logits, k, cf), REFS[name](logits.astype(np.float64), k, cf))
    assert REFS[name](logits, k, cf)[1].dtype == np.float64


def test_capacity_formula_is_evaluated_left_to_right():
    assert moe.capacity(1.25, 8, 2, 8) == 3  # 2.5 -> 3
    assert moe.capacity(1.0, 8, 2, 8) == 2
    assert moe.capacity(0.05, 64, 2, 4) == 2  # 1.6 -> 2
    assert moe.capacity(None, 8, 2, 8) is None
