"""moe-forward references against a dense float64 oracle (every expert on every token, then
masked by the statement's router), and the identities a top-k layer must satisfy."""
from __future__ import annotations

import numpy as np
import pytest

from harness import problems
from problems._common import moe
from tests.moe_oracles import expert_outputs, forward_dense, reference, route_py

REFS = {name: reference(name).moe_forward for name in ("moe_forward_numpy", "moe_forward_numba")}
PROBLEM = problems.get("moe-forward")


def edge_case(name: str) -> tuple:
    (case,) = [c for c in PROBLEM.edge_cases if c.name == name]
    return case.make(np.random.default_rng(1))


def assert_close(got: np.ndarray, want: np.ndarray, rtol: float = 2e-5) -> None:
    assert got.dtype == np.float32 and got.shape == want.shape
    message = moe.compare_scaled("y", got, want, rtol=rtol)
    assert message is None, message


@pytest.mark.parametrize("name", REFS)
@pytest.mark.parametrize("case", [c.name for c in PROBLEM.edge_cases])
def test_edge_cases_match_the_dense_oracle(name, case):
    args = edge_case(case)
    assert_close(REFS[name](*args), forward_dense(*args))


@pytest.mark.parametrize("name", REFS)
@pytest.mark.parametrize("T", [16, 200])
def test_random_cases_match_the_dense_oracle(name, T):
    args = PROBLEM.make_random(np.random.default_rng(T), T)
    assert_close(REFS[name](*args), forward_dense(*args))


@pytest.mark.parametrize("block", [1, 2, 3, 5])
@pytest.mark.parametrize("capacity_factor", [None, 1.0])
def test_numba_reference_in_row_blocks_matches_the_dense_oracle(block, capacity_factor):
    """The Numba reference runs each expert's kept rows BLOCK at a time (the last block up to
    BLOCK // 2 more); the problem's cases never give an expert more than BLOCK rows, so a tiny
    BLOCK here makes every expert span several blocks, with and without drops."""
    module = reference("moe_forward_numba")
    x, w_router, w1, w2, k, _ = moe.forward_args(np.random.default_rng(block), 40, 8, 8, 4, 2, None)
    kept, module.BLOCK = module.BLOCK, block
    try:
        y = module.moe_forward(x, w_router, w1, w2, k, capacity_factor)
    finally:
        module.BLOCK = kept
    assert_close(y, forward_dense(x, w_router, w1, w2, k, capacity_factor))


@pytest.mark.parametrize("name", REFS)
def test_worked_example(name):
    y = REFS[name](*edge_case("worked example"))
    e = np.e
    np.testing.assert_allclose(y, [[e / (e + 1), 0.0], [0.0, 2 * e**2 / (e**2 + 1)], [0.0, 0.0]], rtol=1e-6)


@pytest.mark.parametrize("name", REFS)
def test_one_expert_is_a_dense_ffn(name):
    x, w_router, w1, w2, k, cf = edge_case("E = 1: a dense FFN")
    dense = np.maximum(x @ w1[0], 0) @ w2[0]
    np.testing.assert_allclose(REFS[name](x, w_router, w1, w2, k, cf), dense, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", REFS)
@pytest.mark.parametrize("T,E,k", [(32, 4, 2), (17, 8, 1), (5, 8, 3), (24, 3, 3)])
def test_capacity_at_least_T_equals_dropless(name, T, E, k):
    x, w_router, w1, w2, _, _ = moe.forward_args(np.random.default_rng(T), T, 8, 8, E, k, None)
    cf = E / k  # C = ceil(T) = T: no expert can overflow
    assert moe.capacity(cf, T, k, E) >= T
    np.testing.assert_array_equal(REFS[name](x, w_router, w1, w2, k, cf), REFS[name](x, w_router, w1, w2, k, None))


@pytest.mark.parametrize("name", REFS)
def test_k_equals_E_is_the_dense_softmax_mixture(name):
    x, w_router, w1, w2, k, cf = edge_case("k = E: every expert")
    z = (x @ w_router).astype(np.float64)
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    mixture = np.einsum("te,etd->td", p, expert_outputs(x, w1, w2))
    assert_close(REFS[name](x, w_router, w1, w2, k, cf), mixture)


@pytest.mark.parametrize("name", REFS)
def test_dropped_tokens_output_exact_zeros(name):
    x, w_router, w1, w2, k, cf = edge_case("tiny capacity: most assignments dropped")
    _, _, kept, _, _ = route_py((x @ w_router).astype(np.float64), k, cf)
    y = REFS[name](x, w_router, w1, w2, k, cf)
    assert kept.sum() == 4 * moe.capacity(cf, x.shape[0], k, w1.shape[0])  # all 4 experts full
    assert (y[~kept.any(axis=1)] == 0).all() and (~kept.any(axis=1)).sum() > x.shape[0] // 2


@pytest.mark.parametrize("name", REFS)
def test_zero_tokens(name):
    y = REFS[name](*edge_case("0 tokens"))
    assert y.shape == (0, 8) and y.dtype == np.float32


@pytest.mark.parametrize("name", REFS)
def test_float64_inputs_give_float64_outputs(name):
    x, w_router, w1, w2, k, cf = (a.astype(np.float64) if isinstance(a, np.ndarray) else a
                                  for a in edge_case("Switch: top-1 with capacity"))
    y = REFS[name](x, w_router, w1, w2, k, cf)
    assert y.dtype == np.float64
    np.testing.assert_allclose(y, forward_dense(x, w_router, w1, w2, k, cf), rtol=1e-12, atol=1e-13)


def test_skewed_case_sends_half_the_assignments_to_expert_0():
    x, w_router, w1, w2, k, cf = edge_case("skewed: expert 0 takes half the assignments")
    expert = route_py((x @ w_router).astype(np.float64), k, cf)[0]
    assert (expert[:, 0] == 0).all() and np.mean(expert == 0) == 0.5


def test_flops_model_counts_the_dense_equivalent():
    args = PROBLEM.bench_args(np.random.default_rng(0), 512)
    D, H, E, k = 256, 512, 8, 2
    assert PROBLEM.flops_of(args) == 2 * 512 * D * E + 512 * k * 4 * D * H
