"""ep-dispatch references against a pure-Python simulation written from the statement (ranks as
lists, the all-to-all as appends), the worked example, conservation invariants, the checker, and
the editorial's traffic table (combinatorics, checked against the reference on random routings)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness import problems
from tests.moe_oracles import reference

PROBLEM = problems.get("ep-dispatch")
SPEC = PROBLEM.check.__globals__
REFS = {name: reference(name).ep_dispatch for name in ("ep_dispatch_numpy", "ep_dispatch_numba")}


def edge_case(name: str) -> tuple:
    (case,) = [c for c in PROBLEM.edge_cases if c.name == name]
    return case.make(np.random.default_rng(0))


def ep_py(x, expert, gate, w, rpn):
    """The statement, literally: per source rank, per destination, per token."""
    P, T, D = x.shape
    k = expert.shape[2]
    L = w.shape[0] // P
    dests = [[sorted({int(e) // L for e in expert[r, t]}) for t in range(T)] for r in range(P)]
    counts = np.array([[sum(d in dests[r][t] for t in range(T)) for d in range(P)] for r in range(P)], dtype=np.int64)
    send = [[t for d in range(P) for t in range(T) if d in dests[r][t]] for r in range(P)]
    recv_x, recv_e, recv_g, back = [], [], [], [[[] for _ in range(T)] for _ in range(P)]
    for d in range(P):
        rows_x, rows_e, rows_g = [], [], []
        for r in range(P):
            for t in (t for t in range(T) if d in dests[r][t]):
                slots = [(int(e), float(g)) if int(e) // L == d else (-1, 0.0)
                         for e, g in zip(expert[r, t], gate[r, t])]
                rows_x.append(x[r, t].tolist())
                rows_e.append([e for e, _ in slots])
                rows_g.append([g for _, g in slots])
                back[r][t].append(sum((g * w[e].astype(np.float64) * x[r, t] for e, g in slots if e >= 0),
                                      np.zeros(D)))
        recv_x.append(np.array(rows_x, dtype=x.dtype).reshape(-1, D))
        recv_e.append(np.array(rows_e, dtype=np.int64).reshape(-1, k))
        recv_g.append(np.array(rows_g, dtype=gate.dtype).reshape(-1, k))
    y = np.array([[np.sum(back[r][t], axis=0) if back[r][t] else np.zeros(D) for t in range(T)] for r in range(P)])
    row = D * x.itemsize
    node = [r // rpn for r in range(P)]
    traffic = {"rank_bytes": int(sum(counts[r, d] for r in range(P) for d in range(P) if r != d)) * row,
               "node_bytes": int(sum(counts[r, d] for r in range(P) for d in range(P) if node[r] != node[d])) * row,
               "node_bytes_dedup": sum(len({node[d] for d in dests[r][t]} - {node[r]})
                                       for r in range(P) for t in range(T)) * row}
    return counts, [np.array(s, dtype=np.int64) for s in send], recv_x, recv_e, recv_g, y.reshape(P, T, D), traffic


def assert_same(got, want):
    np.testing.assert_array_equal(got[0], want[0])
    for i in (1, 2, 3, 4):
        assert len(got[i]) == len(want[i])
        for a, b in zip(got[i], want[i]):
            assert a.shape == b.shape and a.dtype.kind == b.dtype.kind
            np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(got[5], want[5], rtol=1e-5, atol=1e-5)
    assert got[6] == want[6]


@st.composite
def layouts(draw):
    P = draw(st.sampled_from([1, 2, 3, 4, 6, 8]))
    rpn = draw(st.sampled_from([d for d in (1, 2, 3, 4) if P % d == 0]))
    L = draw(st.integers(1, 3))
    E = P * L
    k = draw(st.integers(1, E))
    T = draw(st.integers(0, 6))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    return SPEC["layer"](rng, P, T, E, k, 3, rpn, hot=draw(st.sampled_from([0.0, 0.8])))


@pytest.mark.parametrize("name", REFS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(args=layouts())
def test_reference_matches_the_statement(name, args):
    assert_same(REFS[name](*args), ep_py(*args))


@pytest.mark.parametrize("name", REFS)
@pytest.mark.parametrize("case", [c.name for c in PROBLEM.edge_cases])
def test_edge_cases_match_the_statement(name, case):
    (c,) = [c for c in PROBLEM.edge_cases if c.name == case]
    args = c.make(np.random.default_rng(0))
    assert_same(REFS[name](*args), ep_py(*args))


@pytest.mark.parametrize("name", REFS)
def test_worked_example(name):
    counts, send, recv_x, recv_e, recv_g, y, traffic = REFS[name](*edge_case("worked example"))
    np.testing.assert_array_equal(counts, [[1, 0, 1, 1], [1, 2, 1, 0], [1, 0, 1, 1], [1, 2, 0, 1]])
    assert [s.tolist() for s in send] == [[0, 0, 1], [0, 0, 1, 1], [1, 0, 1], [1, 0, 1, 0]]
    assert recv_x[3].tolist() == [[3, 4], [11, 12], [13, 14]]
    assert recv_e[3].tolist() == [[6, 7], [-1, 7], [-1, 6]] and recv_g[3].tolist() == [[0.75, 0.25], [0, 0.25],
                                                                                           [0, 0.25]]
    assert traffic == {"rank_bytes": 72, "node_bytes": 56, "node_bytes_dedup": 48}
    assert counts.sum() == 14 and np.trace(counts) == 5


@pytest.mark.parametrize("name", REFS)
def test_conservation(name):
    """Every (token, rank holding one of its experts) pair arrives exactly once, every slot is local on
    exactly one receiving rank, and the bytes model counts the rows."""
    args = PROBLEM.make_random(np.random.default_rng(11), 2000)
    x, expert, gate, w, rpn = args
    P, T, k = expert.shape
    counts, send, recv_x, recv_e, recv_g, y, traffic = REFS[name](*args)
    assert [s.size for s in send] == counts.sum(axis=1).tolist()
    assert [r.shape[0] for r in recv_x] == counts.sum(axis=0).tolist()
    assert sum(int((e >= 0).sum()) for e in recv_e) == P * T * k  # each slot is local exactly once
    assert math.isclose(sum(float(g.sum()) for g in recv_g), float(gate.sum()), rel_tol=1e-5)
    assert SPEC["_rows"](args) == counts.sum()
    assert traffic["node_bytes_dedup"] <= traffic["node_bytes"] <= traffic["rank_bytes"]


# -- the editorial's traffic table ---------------------------------------------------------
def test_editorial_table_numbers():
    miss_rank = math.comb(252, 8) / math.comb(256, 8)
    miss_node = math.comb(224, 8) / math.comb(256, 8)
    assert 8 * 7 / 8 * 7168 == 50_176
    assert round(56 * (1 - miss_rank), 2) == 6.72 and round(56 * (1 - miss_rank) * 7168) == 48_142
    assert round(7 * (1 - miss_node), 2) == 4.63 and round(7 * (1 - miss_node) * 7168) == 33_208
    assert 4 * 7168 == 28_672
    assert round(4096 * 7 * (1 - miss_node) * 7168 / 1e9, 2) == 0.14
    text = (PROBLEM.folder / "editorial.md").read_text(encoding="utf-8")
    for number in ("50,176", "6.72", "48,142", "4.63", "33,208", "28,672", "0.14 GB"):
        assert number in text


@pytest.mark.parametrize("nodes", [None, 4])
def test_traffic_formulas_against_the_reference(nodes):
    """DeepSeek-V3's layout (64 ranks in 8 nodes, 256 experts, top-8) with random routing: the measured
    rows per token match the combinatorics; with node-limited routing no token reaches more than 4 nodes."""
    rng = np.random.default_rng(0)
    args = SPEC["layer"](rng, 64, 64, 256, 8, 1, 8, nodes=nodes)
    traffic = REFS["ep_dispatch_numba"](*args).traffic
    tokens, row = 64 * 64, 1 * 4
    per_node = traffic["node_bytes_dedup"] / row / tokens
    if nodes is None:
        assert per_node == pytest.approx(7 * (1 - math.comb(224, 8) / math.comb(256, 8)), rel=0.03)
        per_rank = (traffic["node_bytes"]) / row / tokens
        assert per_rank == pytest.approx(56 * (1 - math.comb(252, 8) / math.comb(256, 8)), rel=0.03)
    else:
        owner_node = args[1] // 32
        assert max(len(set(row_.tolist())) for row_ in owner_node.reshape(-1, 8)) <= 4
        assert per_node <= 4


# -- the checker ------------------------------------------------------------------------
def test_checker_names_the_first_wrong_field():
    args = edge_case("worked example")
    want = REFS["ep_dispatch_numpy"](*args)
    assert PROBLEM.check(args, want, tuple(want)) is None
    swapped = [s.copy() for s in want.send_token]
    swapped[1] = swapped[1][[0, 2, 1, 3]]
    assert "send_token[1]" in PROBLEM.check(args, want, want._replace(send_token=swapped))
    assert "send_counts" in PROBLEM.check(args, want, want._replace(send_counts=want.send_counts.T.copy()))
    assert "traffic" in PROBLEM.check(args, want, want._replace(traffic={**want.traffic, "node_bytes": 0}))
    assert "list of 4" in PROBLEM.check(args, want, want._replace(recv_x=want.recv_x[:3]))
    assert "y" in PROBLEM.check(args, want, want._replace(y=np.zeros_like(want.y))).split(":")[0]
