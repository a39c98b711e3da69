"""grouped-gemm and grouped-gemm-backward: every reference and baseline against a dense masked
oracle (every group's weights on every row, then the row's own group kept), float64 finite
differences for the backward, the worked examples, validation, and the group-size generators."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness import problems
from harness.problems import load_module
from problems._common import dropless
from tests.moe_oracles import finite_differences

FORWARD = problems.get("grouped-gemm")
BACKWARD = problems.get("grouped-gemm-backward")


def implementations(problem) -> dict:
    found = {f"reference/{k}": p for k, p in problem.references.items()}
    found.update({f"baselines/{k}": p for k, p in problem.baselines.items() if problems.runnable(p)})
    return {name: getattr(load_module(path), problem.entry) for name, path in found.items()}


FWD = implementations(FORWARD)
BWD = implementations(BACKWARD)


def dense_masked(x, sizes, w):
    """The oracle: y = sum_g [row in g] * (x @ w[g]) in float64, from the group id of each row."""
    group_of_row = np.repeat(np.arange(len(sizes)), sizes)
    y = np.zeros((x.shape[0], w.shape[2]))
    for g in range(len(sizes)):
        y += (group_of_row == g)[:, None] * (x.astype(np.float64) @ w[g].astype(np.float64))
    return y


@st.composite
def grouped_cases(draw):
    E = draw(st.integers(1, 7))
    sizes = np.array(draw(st.lists(st.integers(0, 6), min_size=E, max_size=E)), dtype=np.int64)
    D = draw(st.integers(1, 5))
    H = draw(st.integers(1, 5))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    N = int(sizes.sum())
    return rng.standard_normal((N, D)), sizes, rng.standard_normal((E, D, H)), rng.standard_normal((N, H))


@pytest.mark.parametrize("name", FWD)
@settings(max_examples=60, deadline=None)
@given(case=grouped_cases())
def test_forward_matches_the_dense_masked_oracle_in_float64(name, case):
    x, sizes, w, _ = case
    y = FWD[name](x, sizes, w)
    assert y.dtype == np.float64 and y.shape == (x.shape[0], w.shape[2])
    np.testing.assert_allclose(y, dense_masked(x, sizes, w), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", BWD)
@settings(max_examples=40, deadline=None)
@given(case=grouped_cases())
def test_backward_matches_finite_differences(name, case):
    x, sizes, w, dy = case

    def loss(x_, w_):
        return float(np.sum(dense_masked(x_, sizes, w_) * dy))

    want_dx, want_dw = finite_differences(loss, [x.copy(), w.copy()], step=1e-3)  # L is linear: exact
    dx, dw = BWD[name](x, sizes, w, dy)
    assert dx.dtype == dw.dtype == np.float64
    np.testing.assert_allclose(dx, want_dx, rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(dw, want_dw, rtol=1e-8, atol=1e-9)
    for g in np.flatnonzero(sizes == 0):
        assert (dw[g] == 0).all()  # exactly zero, not small


@pytest.mark.parametrize("mix", ["uniform", "balanced", "skewed", "one", "few"])
def test_float32_grid_inputs_give_the_same_answer_everywhere(mix):
    args = dropless.grouped_args(np.random.default_rng(3), 300, 32, 48, 8, mix)
    answers = [fn(*args) for fn in FWD.values()]
    exact = dense_masked(*args)
    for y in answers:
        assert y.dtype == np.float32
        np.testing.assert_array_equal(y, exact.astype(np.float32))  # the grid makes every sum exact


@pytest.mark.parametrize("name", BWD)
def test_backward_agrees_with_the_oracle_on_every_edge_case(name):
    oracle = load_module(BACKWARD.reference_path("numpy")).grouped_gemm_backward
    for case in BACKWARD.edge_cases:
        args = case.make(np.random.default_rng(0))
        try:
            want = oracle(*args)
        except ValueError:
            with pytest.raises(ValueError):
                BWD[name](*args)
            continue
        assert BACKWARD.check(args, want, BWD[name](*args)) is None, case.name


@pytest.mark.parametrize("name", FWD)
def test_forward_worked_example(name):
    y = FWD[name](*FORWARD.edge_cases[0].make(np.random.default_rng(0)))
    assert y.tolist() == [[1, 2], [1, 1], [0, 2], [1, 3]]


@pytest.mark.parametrize("name", BWD)
def test_backward_worked_example(name):
    dx, dw = BWD[name](*BACKWARD.edge_cases[0].make(np.random.default_rng(0)))
    assert dx.tolist() == [[1, 1], [2, 2], [2, 2], [2, 2]]
    assert dw.tolist() == [[[1, 1], [2, 2]], [[0, 0], [0, 0]], [[2, 2], [2, 2]]]


BAD_SIZES = {"sum above N": [3, 2], "negative": [2, -1, 2], "sum below N": [1, 1, 0], "wrong length": [1, 2]}


@pytest.mark.parametrize("direction", ["forward", "backward"])
@pytest.mark.parametrize("bad", BAD_SIZES)
def test_bad_group_sizes_raise_value_error(direction, bad):
    x, w, dy = np.ones((3, 2), np.float32), np.ones((3, 2, 2), np.float32), np.ones((3, 2), np.float32)
    sizes = np.array(BAD_SIZES[bad])
    for fn in (FWD if direction == "forward" else BWD).values():
        with pytest.raises(ValueError):
            fn(x, sizes, w) if direction == "forward" else fn(x, sizes, w, dy)


@pytest.mark.parametrize("name", FWD)
def test_inputs_are_not_modified_and_outputs_are_new(name):
    x, sizes, w = dropless.grouped_args(np.random.default_rng(1), 50, 8, 8, 4, "uniform")
    copies = x.copy(), sizes.copy(), w.copy()
    y = FWD[name](x, sizes, w)
    for a, b in zip((x, sizes, w), copies):
        np.testing.assert_array_equal(a, b)
    assert not np.shares_memory(y, x)


@pytest.mark.parametrize("mix", dropless.MIXES)
@pytest.mark.parametrize("N,E", [(0, 4), (1, 1), (7, 8), (100, 8), (1000, 3)])
def test_group_sizes_add_up(mix, N, E):
    sizes = dropless.group_sizes(np.random.default_rng(N), N, E, mix)
    assert sizes.shape == (E,) and sizes.dtype == np.int64 and (sizes >= 0).all() and sizes.sum() == N
    if mix == "balanced":
        assert sizes.max() - sizes.min() <= 1
    if mix == "one":
        assert (sizes > 0).sum() <= 1
    if mix == "skewed" and E > 1:
        assert sizes[0] == (N + 1) // 2
    if mix == "few":
        assert (sizes[max(1, E // 4):] == 0).all()


def test_flops_models():
    args = FORWARD.bench_args(np.random.default_rng(0), 512)
    assert FORWARD.flops_of(args) == 2 * 512 * 256 * 512
    assert BACKWARD.flops_of(BACKWARD.bench_args(np.random.default_rng(0), 512)) == 4 * 512 * 256 * 512


def test_checker_rejects_garbage_in_an_empty_group():
    args = BACKWARD.edge_cases[0].make(np.random.default_rng(0))
    want = load_module(BACKWARD.reference_path("numpy")).grouped_gemm_backward(*args)
    dx, dw = (a.copy() for a in want)
    dw[1] = 1e-3  # group 1 is empty: its gradient must be 0
    assert "dw" in BACKWARD.check(args, want, (dx, dw))
    assert "all zeros" in BACKWARD.check(args, want, (np.zeros_like(dx), np.zeros_like(dw)))


@pytest.mark.parametrize("slug", ["grouped-gemm", "grouped-gemm-backward", "moe-dropless", "moe-dropless-backward"])
def test_dense_comparison_benchmark_runs_and_reports_ratios(slug):
    """benchmarks/grouped_gemm_vs_dense.py on a tiny case: it checks every implementation's answer,
    sizes the dense GEMM to equal FLOPs and reports the ratios (their values are the lead's to measure)."""
    from benchmarks.grouped_gemm_vs_dense import measure, report

    result = measure(slug, "skewed", rows=64, D=8, H=16, E=4, k=2, rounds=3, impls=["numba", "numpy", "torch"])
    rows, D, N = result["dense_shape"]
    assert 2 * rows * D * N == result["flops"]
    assert {"dense", "numba", "numpy"} <= set(result["impls"])
    for name, row in result["impls"].items():
        assert row["median_s"] > 0 and (name == "dense" or row["vs_dense"] > 0)
        if name != "dense":
            lo, hi = row["vs_dense_ci"]
            assert lo <= hi
    assert slug in report(result)
