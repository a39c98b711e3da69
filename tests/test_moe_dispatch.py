"""moe-dispatch: every reference and baseline against a pure-Python transcription of the
statement's rules, the worked example, the permutation identities, and the checker's messages."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness import problems
from harness.problems import load_module
from problems._common import dropless

PROBLEM = problems.get("moe-dispatch")
SOLUTIONS = {f"{path.parent.name}/{key}": path for key, path in {**PROBLEM.references}.items()}
SOLUTIONS.update({f"baselines/{key}": path for key, path in PROBLEM.baselines.items() if problems.runnable(path)})


def solution(name: str):
    return load_module(SOLUTIONS[name]).moe_dispatch


def dispatch_py(expert: list[list[int]], E: int):
    """The statement, literally: assignment a = t*k + j; one bucket per expert filled in
    ascending a; offsets the running sum; inverse the position of each a."""
    flat = [e for row in expert for e in row]
    buckets = [[] for _ in range(E)]
    for a, e in enumerate(flat):
        buckets[e].append(a)
    order = [a for bucket in buckets for a in bucket]
    counts = [len(bucket) for bucket in buckets]
    offsets = [0]
    for c in counts:
        offsets.append(offsets[-1] + c)
    position = {a: p for p, a in enumerate(order)}
    k = len(expert[0]) if expert else 0
    inverse = [[position[t * k + j] for j in range(k)] for t in range(len(expert))]
    return order, counts, offsets, inverse


@st.composite
def routings(draw):
    E = draw(st.integers(1, 12))
    k = draw(st.integers(1, E))
    T = draw(st.integers(0, 30))
    rows = [draw(st.permutations(range(E)))[:k] for _ in range(T)]
    return np.array(rows, dtype=np.int64).reshape(T, k), E


@pytest.mark.parametrize("name", SOLUTIONS)
@settings(max_examples=80, deadline=None)
@given(case=routings(), dtype=st.sampled_from([np.int64, np.int32, np.int16, np.uint8]))
def test_matches_the_pure_python_rules(name, case, dtype):
    expert, E = case
    expert = expert.astype(dtype)
    before = expert.copy()
    order, counts, offsets, inverse = solution(name)(expert, E)
    want = dispatch_py(expert.tolist(), E)
    for got, ref in zip((order, counts, offsets, inverse), want):
        assert got.dtype == np.int64
        np.testing.assert_array_equal(got, np.array(ref, dtype=np.int64).reshape(got.shape))
    np.testing.assert_array_equal(expert, before)


@pytest.mark.parametrize("name", SOLUTIONS)
@pytest.mark.parametrize("mix", dropless.MIXES)
def test_permutation_identities(name, mix):
    rng = np.random.default_rng(5)
    k = 1 if mix == "one" else 3
    expert = dropless.assignments(rng, 500, 16, k, mix)
    order, counts, offsets, inverse = solution(name)(expert, 16)
    n = expert.size
    np.testing.assert_array_equal(np.sort(order), np.arange(n))  # a permutation
    np.testing.assert_array_equal(order[inverse.reshape(-1)], np.arange(n))  # inverse undoes it
    np.testing.assert_array_equal(inverse.reshape(-1)[order], np.arange(n))
    sorted_ids = expert.reshape(-1)[order]
    assert (np.diff(sorted_ids) >= 0).all()  # grouped, experts ascending
    for e in range(16):
        group = order[offsets[e]:offsets[e + 1]]
        assert (expert.reshape(-1)[group] == e).all() and (np.diff(group) > 0).all()  # stable
        assert len(np.unique(group // k)) == group.size  # distinct tokens within a group
    assert counts.sum() == n and offsets[0] == 0 and offsets[-1] == n


@pytest.mark.parametrize("name", SOLUTIONS)
def test_worked_example(name):
    expert, E = PROBLEM.edge_cases[0].make(np.random.default_rng(0))
    order, counts, offsets, inverse = solution(name)(expert, E)
    assert order.tolist() == [1, 2, 6, 3, 5, 0, 4, 7]
    assert counts.tolist() == [3, 2, 3, 0]
    assert offsets.tolist() == [0, 3, 5, 8, 8]
    assert inverse.tolist() == [[5, 0], [1, 3], [6, 4], [2, 7]]
    assert (order // 2).tolist() == [0, 1, 3, 1, 2, 0, 2, 3]
    queue = expert.T.reshape(-1)  # the statement's slot-major contrast: expert 0's tokens 1, 3, 0
    assert [int(q % 4) for q in np.flatnonzero(queue == 0)] == [1, 3, 0]


@pytest.mark.parametrize("name", SOLUTIONS)
@pytest.mark.parametrize("bad", [4, -1, 100])
def test_out_of_range_ids_raise_value_error(name, bad):
    expert = np.array([[0, 1], [2, bad]])
    with pytest.raises(ValueError):
        solution(name)(expert, 4)


@pytest.mark.parametrize("name", SOLUTIONS)
def test_zero_tokens(name):
    order, counts, offsets, inverse = solution(name)(np.zeros((0, 2), dtype=np.int64), 5)
    assert order.shape == (0,) and counts.tolist() == [0] * 5 and offsets.tolist() == [0] * 6
    assert inverse.shape == (0, 2)


def test_checker_names_the_broken_rule():
    expert, E = PROBLEM.edge_cases[0].make(np.random.default_rng(0))
    args = (expert, E)
    want = load_module(PROBLEM.reference_path("numpy")).moe_dispatch(*args)
    order, counts, offsets, inverse = (a.copy() for a in want)
    assert PROBLEM.check(args, want, (order, counts, offsets, inverse)) is None
    swapped = order.copy()
    swapped[[0, 1]] = swapped[[1, 0]]
    assert "not stable" in PROBLEM.check(args, want, (swapped, counts, offsets, inverse))
    assert "does not group" in PROBLEM.check(args, want, (np.arange(8), counts, offsets, inverse))
    assert "not a permutation" in PROBLEM.check(args, want, (np.zeros(8, np.int64), counts, offsets, inverse))
    assert "you returned order itself" in PROBLEM.check(args, want, (order, counts, offsets, order.reshape(4, 2)))
    assert "E + 1" in PROBLEM.check(args, want, (order, counts, np.cumsum(counts), inverse))
    assert "minlength" in PROBLEM.check(args, want, (order, counts[:3], offsets, inverse))
    assert PROBLEM.check(args, want, (order.astype(np.int32), counts, offsets, inverse)) is None  # int32 or int64
    assert "int32 or int64" in PROBLEM.check(args, want, (order.astype(np.uint32), counts, offsets, inverse))
    assert "4-tuple" in PROBLEM.check(args, want, (order, counts, offsets))


def test_bytes_model_counts_the_compulsory_traffic():
    args = PROBLEM.bench_args(np.random.default_rng(0), 65_536)
    expert, E = args
    assert expert.shape == (32_768, 2) and E == 64
    assert PROBLEM.bytes_of(args) == 65_536 * (8 + 8 + 8) + 8 * (2 * 64 + 1)


@pytest.mark.parametrize("n", PROBLEM.random_sizes)
def test_random_cases_have_about_their_size(n):
    args = PROBLEM.make_random(np.random.default_rng(n), n)
    assert 0.5 * n <= PROBLEM.size_of(args) <= n
