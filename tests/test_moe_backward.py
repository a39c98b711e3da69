"""moe-backward references against finite differences in float64 (routing held fixed),
closed forms (one expert = a dense FFN), and the identities of the layer."""
from __future__ import annotations

import numpy as np
import pytest

from harness import problems
from problems._common import moe
from tests.moe_oracles import finite_differences, loss_fixed_routing, reference, route_py

REFS = {name: reference(name).moe_backward for name in ("moe_backward_numpy", "moe_backward_numba")}
FORWARD = reference("moe_forward_numpy").moe_forward
ROUTE = reference("moe_router_numpy").route
PROBLEM = problems.get("moe-backward")
NAMES = ("dx", "dw_router", "dw1", "dw2")


def float64_case(rng, T, D, H, E, k, cf, aux_coef, z_coef, *, zero_dy=False):
    """Real-valued float64 inputs (not the grid): finite differences need no exact ties."""
    x = rng.standard_normal((T, D))
    w_router = rng.standard_normal((D, E))
    w1 = rng.standard_normal((E, D, H))
    w2 = rng.standard_normal((E, H, D))
    dy = np.zeros((T, D)) if zero_dy else rng.standard_normal((T, D))
    return x, w_router, w1, w2, k, dy, cf, aux_coef, z_coef


FD_CASES = {
    "top-2 with capacity": (7, 4, 5, 3, 2, 0.6, 0.3, 0.2),
    "top-1 (Switch) with capacity": (9, 3, 4, 4, 1, 0.5, 0.3, 0.2),
    "k = E": (6, 4, 3, 3, 3, None, 0.3, 0.2),
    "one expert": (5, 3, 4, 1, 1, None, 0.3, 0.2),
    "T < E": (2, 3, 4, 5, 2, 1.0, 0.5, 0.1),
    "dy = 0": (6, 3, 4, 3, 2, 1.0, 1.0, 0.5),
    "no auxiliary losses": (6, 3, 4, 3, 2, None, 0.0, 0.0),
}


@pytest.mark.parametrize("name", REFS)
@pytest.mark.parametrize("case", FD_CASES)
def test_gradients_match_finite_differences(name, case):
    T, D, H, E, k, cf, aux_coef, z_coef = FD_CASES[case]
    rng = np.random.default_rng(list(FD_CASES).index(case))
    x, w_router, w1, w2, k, dy, cf, aux_coef, z_coef = float64_case(
        rng, T, D, H, E, k, cf, aux_coef, z_coef, zero_dy=case == "dy = 0")
    expert, _, kept, _, _ = route_py(x @ w_router, k, cf)
    if cf is not None and case != "T < E":
        assert not kept.all(), "the case should drop something"

    def loss(x_, w_router_, w1_, w2_):
        return loss_fixed_routing(x_, w_router_, w1_, w2_, dy, expert, kept, aux_coef, z_coef)

    numeric = finite_differences(loss, [x.copy(), w_router.copy(), w1.copy(), w2.copy()])
    analytic = REFS[name](x, w_router, w1, w2, k, dy, cf, aux_coef, z_coef)
    for label, got, want in zip(NAMES, analytic, numeric):
        assert got.dtype == np.float64
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7 * max(1.0, np.abs(want).max()), err_msg=label)


def test_fixed_routing_loss_is_the_layer_and_router_losses():
    """The finite-difference target is the function the three problems define together."""
    rng = np.random.default_rng(3)
    x, w_router, w1, w2, k, dy, cf, aux_coef, z_coef = float64_case(rng, 8, 3, 4, 3, 2, 0.7, 0.3, 0.2)
    routing = ROUTE(x @ w_router, k, cf)
    y = FORWARD(x, w_router, w1, w2, k, cf)
    want = float(np.sum(y * dy)) + aux_coef * routing.aux_loss + z_coef * routing.z_loss
    got = loss_fixed_routing(x, w_router, w1, w2, dy, routing.expert, routing.kept, aux_coef, z_coef)
    assert got == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("name", REFS)
def test_one_expert_is_a_dense_ffn_plus_the_z_loss(name):
    rng = np.random.default_rng(4)
    x, w_router, w1, w2, k, dy, cf, _, z_coef = float64_case(rng, 10, 4, 6, 1, 1, None, 0.5, 0.3)
    dx, dw_router, dw1, dw2 = REFS[name](x, w_router, w1, w2, k, dy, cf, 0.5, z_coef)
    h = x @ w1[0]
    dh = (dy @ w2[0].T) * (h > 0)
    dlogit = z_coef * 2 / len(x) * (x @ w_router)  # E = 1: lse = the logit; gate 1 and aux constant
    np.testing.assert_allclose(dw2[0], np.maximum(h, 0).T @ dy, rtol=1e-12)
    np.testing.assert_allclose(dw1[0], x.T @ dh, rtol=1e-12)
    np.testing.assert_allclose(dw_router, x.T @ dlogit, rtol=1e-12)
    np.testing.assert_allclose(dx, dh @ w1[0].T + dlogit @ w_router.T, rtol=1e-12)


@pytest.mark.parametrize("name", REFS)
@pytest.mark.parametrize("T,E,k", [(32, 4, 2), (17, 8, 1), (24, 3, 3)])
def test_capacity_at_least_T_equals_dropless(name, T, E, k):
    args = list(moe.backward_args(np.random.default_rng(T), T, 8, 8, E, k, None))
    free = REFS[name](*args)
    args[6] = E / k
    for a, b in zip(REFS[name](*args), free):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", REFS)
def test_zero_dy_leaves_the_experts_alone(name):
    (case,) = [c for c in PROBLEM.edge_cases if c.name.startswith("dy = 0")]
    dx, dw_router, dw1, dw2 = REFS[name](*case.make(np.random.default_rng(0)))
    assert not dw1.any() and not dw2.any()
    assert dw_router.any() and dx.any()


@pytest.mark.parametrize("name", REFS)
def test_zero_tokens(name):
    (case,) = [c for c in PROBLEM.edge_cases if c.name == "0 tokens"]
    args = case.make(np.random.default_rng(0))
    for got, like in zip(REFS[name](*args), args[:4]):
        assert got.shape == like.shape and got.dtype == np.float32 and not got.any()


@pytest.mark.parametrize("case", [c.name for c in PROBLEM.edge_cases])
def test_numba_matches_numpy_on_edge_cases(case):
    (found,) = [c for c in PROBLEM.edge_cases if c.name == case]
    args = found.make(np.random.default_rng(2))
    want = REFS["moe_backward_numpy"](*args)
    assert moe.check_backward(args, want, REFS["moe_backward_numba"](*args)) is None


def test_worked_example():
    (case,) = [c for c in PROBLEM.edge_cases if c.name == "worked example"]
    dx, dw_router, dw1, dw2 = REFS["moe_backward_numpy"](*case.make(None))
    e = np.e
    p0, p1 = e / (e + 1), e**2 / (e**2 + 1)  # gates of token 0 (expert 0) and token 1 (expert 1)
    # token 0: y = p0 * relu(x) = [p0, 0]; token 1: y = p1 * [0, 2]; token 2 dropped
    np.testing.assert_allclose(dw2[0], [[p0, p0], [0, 0]], rtol=1e-6)
    np.testing.assert_allclose(dw2[1], [[0, 0], [p1, p1]], rtol=1e-6)
    # d y.dy / d logits: token 0: dgate = 1 (o . dy), dlogit = p(1-p) * [1, -1]
    dl0 = p0 * (1 - p0) * np.array([1.0, -1.0])
    dl1 = 2 * p1 * (1 - p1) * np.array([-1.0, 1.0])
    np.testing.assert_allclose(dw_router, np.outer([1, 0], dl0) + np.outer([0, 1], dl1), rtol=1e-6)
    np.testing.assert_allclose(dx[2], [0, 0], atol=1e-7)
