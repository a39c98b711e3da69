"""moe-dropless and moe-dropless-backward: every reference and baseline against a dense float64
oracle (every expert on every token, then each assignment's gate applied), equality with
moe-forward at capacity None and with moe-backward's expert and router gradients (routing by
moe-router's reference), float64 finite differences, and the worked examples."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness import problems
from harness.problems import load_module
from problems._common import dropless, moe
from tests.moe_oracles import expert_outputs, finite_differences, reference

FORWARD = problems.get("moe-dropless")
BACKWARD = problems.get("moe-dropless-backward")
MOE_FORWARD = reference("moe_forward_numpy").moe_forward
MOE_BACKWARD = reference("moe_backward_numpy").moe_backward
ROUTE = reference("moe_router_numpy").route


def implementations(problem) -> dict:
    found = {f"reference/{k}": p for k, p in problem.references.items()}
    found.update({f"baselines/{k}": p for k, p in problem.baselines.items() if problems.runnable(p)})
    return {name: getattr(load_module(path), problem.entry) for name, path in found.items()}


FWD = implementations(FORWARD)
BWD = implementations(BACKWARD)


def dense_oracle(x, expert, gate, w1, w2) -> np.ndarray:
    """y in float64: every expert on every token, then y[t] = sum_j gate[t, j] * outs[expert[t, j], t]."""
    outs = expert_outputs(x, w1, w2)  # (E, T, D)
    y = np.zeros(x.shape)
    for t in range(x.shape[0]):
        for j in range(expert.shape[1]):
            y[t] += float(gate[t, j]) * outs[expert[t, j], t]
    return y


def float64_layer(rng, T, D, H, E, k):
    """Real-valued float64 inputs, routing by moe-router's rules on random logits."""
    x = rng.standard_normal((T, D))
    w_router = rng.standard_normal((D, E))
    w1 = rng.standard_normal((E, D, H))
    w2 = rng.standard_normal((E, H, D))
    expert, gate = dropless.topk_routing(x @ w_router, k)
    return x, w_router, expert, gate, w1, w2


@st.composite
def small_layers(draw):
    E = draw(st.integers(1, 6))
    k = draw(st.integers(1, E))
    T = draw(st.integers(0, 9))
    D, H = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x, _, expert, gate, w1, w2 = float64_layer(rng, T, D, H, E, k)
    return x, expert, gate, w1, w2, rng.standard_normal((T, D))


# -- forward ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", FWD)
@settings(max_examples=60, deadline=None)
@given(layer=small_layers())
def test_forward_matches_the_dense_oracle_in_float64(name, layer):
    x, expert, gate, w1, w2, _ = layer
    y = FWD[name](x, expert, gate, w1, w2)
    assert y.dtype == np.float64 and y.shape == x.shape
    np.testing.assert_allclose(y, dense_oracle(x, expert, gate, w1, w2), rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("block", [1, 2, 3, 5])
@settings(max_examples=25, deadline=None)
@given(layer=small_layers())
def test_numba_reference_in_row_blocks_matches_the_oracle(block, layer):
    """The Numba reference runs each expert's rows BLOCK at a time through block buffers (the
    last block up to BLOCK // 2 longer); the problem's cases never give an expert more than BLOCK
    rows, so a tiny BLOCK here makes every expert span several blocks."""
    module = load_module(FORWARD.references["numba"])
    x, expert, gate, w1, w2, _ = layer
    kept, module.BLOCK = module.BLOCK, block
    try:
        y = module.moe_dropless(x, expert, gate, w1, w2)
    finally:
        module.BLOCK = kept
    np.testing.assert_allclose(y, dense_oracle(x, expert, gate, w1, w2), rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("name", FWD)
@pytest.mark.parametrize("case", [c.name for c in FORWARD.edge_cases])
def test_forward_edge_cases_match_the_dense_oracle(name, case):
    (found,) = [c for c in FORWARD.edge_cases if c.name == case]
    args = found.make(np.random.default_rng(2))
    y = FWD[name](*args)
    assert y.dtype == np.float32
    message = moe.compare_scaled("y", y, dense_oracle(*args), rtol=2e-5)
    assert message is None, message


@pytest.mark.parametrize("name", FWD)
@pytest.mark.parametrize("T,E,k,options", [(40, 4, 2, {}), (33, 8, 1, {}), (20, 3, 3, {}), (64, 4, 2, {"skew": True}),
                                           (16, 4, 2, {"tied_columns": True}), (200, 8, 2, {})])
def test_forward_equals_moe_forward_without_capacity(name, T, E, k, options):
    x, w_router, w1, w2, _, _ = moe.forward_args(np.random.default_rng(T), T, 16, 24, E, k, None, **options)
    routing = ROUTE(x @ w_router, k, None)  # moe-router's reference: ties, gates, no capacity
    assert routing.kept.all()
    y = FWD[name](x, routing.expert.astype(np.int64), routing.gate, w1, w2)
    want = MOE_FORWARD(x, w_router, w1, w2, k, None)
    message = moe.compare_scaled("y", y, want, rtol=1e-5)
    assert message is None, message


def test_spec_routing_is_moe_routers():
    x, w_router, _, _ = moe.layer(np.random.default_rng(4), 50, 16, 8, 8, tied_columns=True)
    for k in (1, 2, 8):
        expert, gate = dropless.topk_routing(x @ w_router, k)
        routing = ROUTE(x @ w_router, k, None)
        np.testing.assert_array_equal(expert, routing.expert)
        np.testing.assert_allclose(gate, routing.gate, rtol=1e-15, atol=0)


@pytest.mark.parametrize("name", FWD)
def test_forward_worked_example(name):
    y = FWD[name](*FORWARD.edge_cases[0].make(None))
    e = np.e
    np.testing.assert_allclose(y, [[e / (e + 1), 0], [0, 2 * e**2 / (e**2 + 1)], [2 * e / (e + 1), 0]], rtol=1e-6)


def test_the_worked_examples_are_moe_forwards_routed_by_moe_routers_rules():
    """The routing written in the known cases (expert, gate) is moe-router's top-1 routing of
    moe-forward's example, whose x, w1 and w2 they share."""
    (forward,) = [c for c in problems.get("moe-forward").edge_cases if c.name == "worked example"]
    x, w_router, w1, w2 = (np.array(forward.input[name], dtype=np.float32) for name in ("x", "w_router", "w1", "w2"))
    routing = ROUTE(x @ w_router, 1, None)
    for problem in (FORWARD, BACKWARD):
        (case,) = [c for c in problem.edge_cases if c.name == "worked example"]
        args = case.make(None)
        np.testing.assert_array_equal(args[1], routing.expert)
        for got, want in zip((args[0], args[2], args[3], args[4]), (x, routing.gate, w1, w2)):
            assert got.dtype == want.dtype
            np.testing.assert_allclose(got, want, rtol=1e-15, atol=0)


@pytest.mark.parametrize("name", FWD)
def test_forward_uses_the_gates_as_given(name):
    x, expert, gate, w1, w2 = dropless.dropless_args(np.random.default_rng(6), 30, 8, 8, 4, 2, "uniform")
    y1 = FWD[name](x, expert, gate, w1, w2)
    y3 = FWD[name](x, expert, 3 * gate, w1, w2)  # gates need not sum to 1: the layer is linear in them
    message = moe.compare_scaled("y", y3, 3 * y1.astype(np.float64), rtol=1e-5)
    assert message is None, message


# -- backward -----------------------------------------------------------------------------
@pytest.mark.parametrize("name", BWD)
@settings(max_examples=25, deadline=None)
@given(layer=small_layers())
def test_backward_matches_finite_differences(name, layer):
    x, expert, gate, w1, w2, dy = layer

    def loss(x_, gate_, w1_, w2_):
        return float(np.sum(dense_oracle(x_, expert, gate_, w1_, w2_) * dy))

    want = finite_differences(loss, [x.copy(), gate.copy(), w1.copy(), w2.copy()])
    got = BWD[name](x, expert, gate, w1, w2, dy)
    for label, g, w in zip(("dx", "dgate", "dw1", "dw2"), got, want):
        assert g.dtype == np.float64 and g.shape == w.shape, label
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-6 * max(1.0, np.abs(w).max(initial=0.0)), err_msg=label)


@pytest.mark.parametrize("block", [1, 2, 3, 5])
@settings(max_examples=20, deadline=None)
@given(layer=small_layers())
def test_numba_backward_in_blocks_matches_finite_differences(block, layer):
    """The Numba reference runs each expert's rows BLOCK at a time and adds an expert's later
    blocks into dw1 and dw2 (the last block up to BLOCK // 2 longer); the problem's cases never
    give an expert more than BLOCK rows, so a tiny BLOCK here makes every expert span several."""
    module = load_module(BACKWARD.references["numba"])
    x, expert, gate, w1, w2, dy = layer

    def loss(x_, gate_, w1_, w2_):
        return float(np.sum(dense_oracle(x_, expert, gate_, w1_, w2_) * dy))

    want = finite_differences(loss, [x.copy(), gate.copy(), w1.copy(), w2.copy()])
    kept, module.BLOCK = module.BLOCK, block
    try:
        got = module.moe_dropless_backward(x, expert, gate, w1, w2, dy)
    finally:
        module.BLOCK = kept
    for label, g, w in zip(("dx", "dgate", "dw1", "dw2"), got, want):
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-6 * max(1.0, np.abs(w).max(initial=0.0)), err_msg=label)


def router_backward(x, w_router, expert, gate, dgate):
    """dlogits from dL/dgate through the gate formula and the softmax (moe-router's rules, written
    from the statement): top-1 gate = p_e; top-k gate_j = p_j / S."""
    z = x @ w_router
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    T, k = expert.shape
    dp = np.zeros_like(p)
    for t in range(T):
        if k == 1:
            dp[t, expert[t, 0]] = dgate[t, 0]
        else:
            S = p[t, expert[t]].sum()
            mix = float(dgate[t] @ gate[t])
            dp[t, expert[t]] = (dgate[t] - mix) / S
    return p * (dp - (dp * p).sum(axis=1, keepdims=True))


@pytest.mark.parametrize("name", BWD)
@pytest.mark.parametrize("T,E,k", [(12, 4, 2), (9, 3, 1), (7, 3, 3), (20, 8, 2)])
def test_backward_is_moe_backwards_expert_part(name, T, E, k):
    """moe-backward (no capacity, no auxiliary losses) = this backward + the router's term."""
    rng = np.random.default_rng(T * E)
    x, w_router, expert, gate, w1, w2 = float64_layer(rng, T, 5, 6, E, k)
    dy = rng.standard_normal((T, 5))
    dx, dgate, dw1, dw2 = BWD[name](x, expert, gate, w1, w2, dy)
    dlogits = router_backward(x, w_router, expert, gate, dgate)
    want_dx, want_dw_router, want_dw1, want_dw2 = MOE_BACKWARD(x, w_router, w1, w2, k, dy, None, 0.0, 0.0)
    np.testing.assert_allclose(dw1, want_dw1, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dw2, want_dw2, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx + dlogits @ w_router.T, want_dx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(x.T @ dlogits, want_dw_router, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", BWD)
def test_backward_worked_example(name):
    dx, dgate, dw1, dw2 = BWD[name](*BACKWARD.edge_cases[0].make(None))
    g0, g1 = np.e / (np.e + 1), np.e**2 / (np.e**2 + 1)
    np.testing.assert_allclose(dgate, [[1], [2], [2]], rtol=1e-6)
    np.testing.assert_allclose(dw2, [[[g0, g0], [0, 0]], [[g0, g0], [g1, g1]]], rtol=1e-6)
    np.testing.assert_allclose(dw1, [[[g0, 0], [0, 0]], [[2 * g0, 0], [2 * g0, 2 * g1]]], rtol=1e-6)
    np.testing.assert_allclose(dx, [[g0, 0], [-2 * g1, 2 * g1], [2 * g0, 0]], rtol=1e-6)
    assert dgate.dtype == np.float64 and dx.dtype == dw1.dtype == dw2.dtype == np.float32


@pytest.mark.parametrize("name", BWD)
@pytest.mark.parametrize("case", [c.name for c in BACKWARD.edge_cases])
def test_backward_edge_cases_agree_with_the_oracle(name, case):
    (found,) = [c for c in BACKWARD.edge_cases if c.name == case]
    args = found.make(np.random.default_rng(3))
    want = load_module(BACKWARD.reference_path("numpy")).moe_dropless_backward(*args)
    got = BWD[name](*args)
    assert BACKWARD.check(args, want, got) is None
    E = args[3].shape[0]
    unused = np.setdiff1d(np.arange(E), args[1].reshape(-1))
    assert (got[2][unused] == 0).all() and (got[3][unused] == 0).all()  # no tokens: exactly zero


def test_zero_rows_make_exact_kinks():
    x, expert, gate, w1, w2, dy = [c for c in BACKWARD.edge_cases if c.name.startswith("zero rows")][0].make(
        np.random.default_rng(0))
    assert (x[::3] == 0).all()
    h = np.einsum("td,tdh->th", x, w1[expert[:, 0]])
    assert (h[::3] == 0).all()


def test_flops_models():
    args = FORWARD.bench_args(np.random.default_rng(0), 512)
    assert FORWARD.flops_of(args) == 4 * 512 * 2 * 256 * 512
    assert BACKWARD.flops_of(BACKWARD.bench_args(np.random.default_rng(0), 512)) == 10 * 512 * 2 * 256 * 512


@pytest.mark.parametrize("mix", ["uniform", "balanced", "skewed", "few"])
def test_assignment_mixes(mix):
    expert = dropless.assignments(np.random.default_rng(1), 400, 16, 2, mix)
    assert expert.shape == (400, 2) and expert.dtype == np.int64
    assert (expert[:, 0] != expert[:, 1]).all()  # distinct per row
    counts = np.bincount(expert.reshape(-1), minlength=16)
    if mix == "balanced":
        assert counts.max() - counts.min() <= 1
    if mix == "skewed":
        assert (expert[:, 0] == 0).all()
    if mix == "few":
        assert (counts[4:] == 0).all()
    gate = dropless.gates_for(np.random.default_rng(2), expert, 16)
    np.testing.assert_allclose(gate.sum(axis=1), 1.0)
    assert (gate[:, 0] >= gate[:, 1]).all()
