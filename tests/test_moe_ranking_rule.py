"""One ranking rule for every MoE problem (moe-router's statement, rule 2): experts are ranked
by logit, equal logits to the lower expert index. Every router implementation in the project
(the references of moe-router, moe-forward, moe-backward, moe-lm-loss, moe-lm-grad (NumPy and
Numba), and tinylm/model.py, which the LM references restate) must give the pure-Python oracle's experts
and kept mask; and each problem grades a case where ranking the computed probabilities instead
keeps different assignments, so a solution that ranks probabilities is WA there."""
from __future__ import annotations

import math

import numpy as np
import pytest

from harness import problems
from harness.seeds import case_seed
from problems._common import moe, moe_lm
from tests.moe_oracles import (finite_differences, forward_dense, loss_fixed_routing, reference,
                               route_py)
from tinylm import model as M

CASE = "rounded probabilities with capacity"


def _kept_from_groups(per_expert, T, k):
    kept = np.zeros((T, k), dtype=bool)
    for tok, slot, *_ in per_expert:
        kept[tok, slot] = True
    return kept


def _lm_grad_route(logits, k, cf):
    """moe-lm-grad's router, reached through its MoE forward with identity router weights."""
    T, E = logits.shape
    y, aux, z, cache = reference("moe_lm_grad_numpy").moe_forward(
        np.asarray(logits, dtype=np.float64), np.eye(E), np.zeros((E, E, 1)), np.zeros((E, 1, E)), k, cf)
    return cache[3], _kept_from_groups(cache[6], T, k)


def _numba_route(module, with_probs):
    def route(logits, k, cf):
        z = np.ascontiguousarray(logits, dtype=np.float64)
        T, E = z.shape
        C = -1 if cf is None else math.ceil(cf * T * k / E)
        expert = np.empty((T, k), dtype=np.int64)
        gate, kept = np.empty((T, k)), np.empty((T, k), dtype=np.bool_)
        extra = (np.empty((T, E)), np.empty(T)) if with_probs else ()
        reference(module)._route(z, k, C, expert, gate, kept, *extra)
        return expert, kept
    return route


def _lm_numba_route(module):
    def route(logits, k, cf):
        z = np.ascontiguousarray(logits, dtype=np.float64)
        T, E = z.shape
        out = reference(module)._route(z, k, -1 if cf is None else math.ceil(cf * T * k / E))
        return out[0], out[2]
    return route


ROUTERS = {
    "moe-router numpy": lambda z, k, cf: reference("moe_router_numpy").route(z, k, cf)[::2][:2],
    "moe-router numba": lambda z, k, cf: reference("moe_router_numba").route(z, k, cf)[::2][:2],
    "moe-forward numpy": lambda z, k, cf: reference("moe_forward_numpy")._route(z, k, cf)[::2],
    "moe-forward numba": _numba_route("moe_forward_numba", with_probs=False),
    "moe-backward numpy": lambda z, k, cf: reference("moe_backward_numpy")._route(z, k, cf)[:3:2],
    "moe-backward numba": _numba_route("moe_backward_numba", with_probs=True),
    "moe-lm-loss numpy": lambda z, k, cf: reference("moe_lm_loss_numpy").route(
        np.asarray(z, dtype=np.float64), k, cf)[::2][:2],
    "moe-lm-grad numpy": _lm_grad_route,
    "moe-lm-loss numba": _lm_numba_route("moe_lm_loss_numba"),
    "moe-lm-grad numba": _lm_numba_route("moe_lm_grad_numba"),
    "tinylm": lambda z, k, cf: M.route(z, k, cf)[::2][:2],
}


def router_cases():
    p = problems.get("moe-router")
    cases = [(c.name, c.make(np.random.default_rng(0))) for c in p.edge_cases]
    rng = np.random.default_rng(14)
    for i in range(6):  # coarse grids (many ties) next to values that underflow (many rounded ties)
        z = rng.integers(-3, 4, (40, 6)) * 0.5 - 900.0 * (rng.random((40, 6)) < 0.3)
        cases.append((f"grid {i}", (z, int(rng.integers(1, 4)), [None, 0.5, 1.0][i % 3])))
    return cases


@pytest.mark.parametrize("router", ROUTERS)
@pytest.mark.parametrize("case,args", router_cases(), ids=[n for n, _ in router_cases()])
def test_every_router_ranks_by_logit(router, case, args):
    logits, k, cf = args
    if not len(logits) and router.startswith(("moe-lm", "tinylm")):
        pytest.skip("an LM batch holds at least one token")
    expert, kept = ROUTERS[router](logits, k, cf)
    want_expert, _, want_kept, _, _ = route_py(np.asarray(logits, dtype=np.float64), k, cf)
    np.testing.assert_array_equal(np.asarray(expert), want_expert)
    np.testing.assert_array_equal(np.asarray(kept), want_kept)


def test_router_case_keeps_different_assignments_under_the_two_rules():
    (case,) = [c for c in problems.get("moe-router").edge_cases if c.name == CASE]
    logits, k, cf = case.make(np.random.default_rng(0))
    by_logit, by_prob = route_py(logits, k, cf), route_py(logits, k, cf, rank="probability")
    np.testing.assert_array_equal(by_logit[0], [[0, 2], [1, 0], [2, 3], [1, 2]])
    np.testing.assert_array_equal(by_prob[0], [[0, 1], [0, 1], [2, 3], [1, 2]])
    T, F = True, False
    np.testing.assert_array_equal(by_logit[2], [[T, F], [T, F], [T, T], [F, F]])  # the case's note
    np.testing.assert_array_equal(by_prob[2], [[T, F], [F, F], [T, T], [T, F]])
    wrong = moe.check_routing(logits, k, cf, moe.Routing(*by_logit), moe.Routing(*by_prob))
    assert wrong and wrong.startswith("expert:")


def _layer_case(slug, seed):
    (case,) = [c for c in problems.get(slug).edge_cases if c.name == CASE]
    return case.make(np.random.default_rng(case_seed(slug, CASE) if seed is None else seed))


@pytest.mark.parametrize("seed", [None, 1])  # the grader's seed, and the one tests/test_moe_forward.py uses
def test_forward_case_tells_the_rules_apart(seed):
    args = _layer_case("moe-forward", seed)
    want = forward_dense(*args)
    other = forward_dense(*args, rank="probability")
    for name in ("moe_forward_numpy", "moe_forward_numba"):
        assert moe.check_forward(args, want, reference(name).moe_forward(*args)) is None
    assert moe.check_forward(args, want, other.astype(np.float32)) is not None


def test_backward_case_tells_the_rules_apart():
    args = _layer_case("moe-backward", None)
    x, w_router, w1, w2, k, dy, cf, aux_coef, z_coef = (a.astype(np.float64) if isinstance(a, np.ndarray) else a
                                                        for a in args)
    grads = reference("moe_backward_numpy").moe_backward(x, w_router, w1, w2, k, dy, cf, aux_coef, z_coef)
    logits = x @ w_router
    for rank, agrees in (("logit", True), ("probability", False)):
        expert, _, kept, _, _ = route_py(logits, k, cf, rank)

        def loss(w2_, expert=expert, kept=kept):
            return loss_fixed_routing(x, w_router, w1, w2_, dy, expert, kept, aux_coef, z_coef)

        (dw2,) = finite_differences(loss, [w2.copy()])
        close = np.allclose(grads[3], dw2, rtol=1e-6, atol=1e-7 * np.abs(dw2).max())
        assert close == agrees, rank


def _top_k_by_probability(logits, k):
    """tinylm's top_k with the rejected rule: stable ranking of the float64 probabilities."""
    probs, _ = M.softmax64(logits)
    return np.argsort(-probs, axis=1, kind="stable")[:, :k]


@pytest.mark.parametrize("slug", ["moe-lm-loss", "moe-lm-grad"])
def test_lm_case_tells_the_rules_apart(slug, monkeypatch):
    from tests.test_moe_lm import loss_ref, tinylm_config

    params, idx, targets, config = args = _layer_case(slug, None)
    cfg = tinylm_config(params, config)
    _, stats, cache = M.forward(params, cfg, idx, targets)
    logits = cache[5][0][3][0] @ params["blocks.0.moe.router"]  # block 0's MoE input times its router
    want_expert, _, want_kept, _, _ = route_py(logits, config["top_k"], config["capacity_factor"])
    np.testing.assert_array_equal(stats["layers"][0]["expert"], want_expert)
    np.testing.assert_array_equal(stats["layers"][0]["kept"], want_kept)
    _, _, prob_kept, _, _ = route_py(logits, config["top_k"], config["capacity_factor"], rank="probability")
    assert (prob_kept != want_kept).any()
    ce, aux, z = loss_ref(*args)
    assert moe_lm.check_scalars(("ce", "aux_loss", "z_loss"), (stats["ce"], stats["aux"], stats["z"]),
                                (ce, aux, z)) is None
    monkeypatch.setattr(M, "top_k", _top_k_by_probability)  # the rule route and moe rank by
    _, other, _ = M.forward(params, cfg, idx, targets)
    assert moe_lm.check_scalars(("ce", "aux_loss", "z_loss"), (ce, aux, z),
                                (other["ce"], other["aux"], other["z"])) is not None
