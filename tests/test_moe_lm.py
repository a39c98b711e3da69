"""moe-lm-loss and moe-lm-grad: the standalone references against the tiny LM (tinylm/model.py),
the grad reference against finite differences of the loss reference, and the checkers."""
from __future__ import annotations

import numpy as np
import pytest

from harness import problems
from harness.seeds import case_seed
from harness.problems import load_module
from problems._common import moe_lm
from tinylm import model as M

LOSS, GRAD = problems.get("moe-lm-loss"), problems.get("moe-lm-grad")
loss_ref = load_module(LOSS.reference_path(LOSS.oracle)).moe_lm_loss
grad_ref = load_module(GRAD.reference_path(GRAD.oracle)).moe_lm_grad


def all_cases(p):
    cases = [(c.name, c.make(np.random.default_rng(case_seed(p.slug, c.name)))) for c in p.edge_cases]
    return cases + [(f"random {n}", p.make_random(np.random.default_rng(n), n)) for n in p.random_sizes]


def tinylm_config(params, config) -> M.Config:
    """The tinylm Config that reads this case's weights (dense blocks: one expert's width)."""
    dense = "blocks.0.ffn.w1" in params
    L = len({k.split(".")[1] for k in params if k.startswith("blocks.")})
    w1 = params["blocks.0.ffn.w1"] if dense else params["blocks.0.moe.w1"]
    return M.Config(vocab_size=params["wte"].shape[0], block_size=params["wpe"].shape[0], n_layer=L,
                    n_head=config["n_head"], n_embd=params["wte"].shape[1],
                    n_expert=1 if dense else w1.shape[0], top_k=1 if dense else config["top_k"],
                    expert_hidden=w1.shape[-1], capacity_factor=config["capacity_factor"],
                    aux_coef=config["aux_coef"], z_coef=config["z_coef"], dense=dense)


@pytest.mark.parametrize("name,args", all_cases(GRAD), ids=[n for n, _ in all_cases(GRAD)])
def test_references_agree_with_the_tiny_lm(name, args):
    params, idx, targets, config = args
    cfg = tinylm_config(params, config)
    stats, grads = M.loss_and_grads(params, cfg, idx, targets)
    ce, aux, z = loss_ref(*args)
    assert ce == pytest.approx(stats["ce"], rel=1e-12, abs=1e-12)
    assert aux == pytest.approx(stats["aux"], rel=1e-12, abs=1e-12)
    assert z == pytest.approx(stats["z"], rel=1e-12, abs=1e-12)
    mine = grad_ref(*args)
    assert set(mine) == set(grads)
    for key, g in grads.items():
        np.testing.assert_allclose(mine[key], g, rtol=1e-9, atol=1e-12 * max(1.0, np.abs(g).max()), err_msg=key)


@pytest.mark.parametrize("case", ["top-1 (Switch) gate", "capacity drops most", "several layers and heads",
                                  "large aux and z coefficients"])
def test_grad_reference_matches_finite_differences_of_the_loss_reference(case):
    """Two standalone files: the gradient of one is the derivative of the other. Routing does
    not flip under a 1e-6 step here (the margins are far larger), which the test asserts."""
    args = dict(all_cases(GRAD))[case]
    params, idx, targets, config = args
    grads = grad_ref(*args)

    def objective():
        ce, aux, z = loss_ref(params, idx, targets, config)
        return ce + config["aux_coef"] * aux + config["z_coef"] * z

    rng = np.random.default_rng(0)
    h = 1e-6
    for key, p in params.items():
        flat = p.reshape(-1)
        for i in rng.choice(flat.size, size=min(flat.size, 5), replace=False):
            old = flat[i]
            flat[i] = old + h
            up = objective()
            flat[i] = old - h
            down = objective()
            flat[i] = old
            numeric = (up - down) / (2 * h)
            assert grads[key].reshape(-1)[i] == pytest.approx(numeric, rel=1e-5, abs=1e-7), (key, i)


def test_ties_pick_the_lowest_experts():
    params, idx, targets, config = dict(all_cases(LOSS))["router all zeros (ties)"]
    _, stats, _ = M.forward(params, tinylm_config(params, config), idx, targets)
    np.testing.assert_array_equal(stats["layers"][0]["expert"], np.tile([0, 1], (idx.size, 1)))


def test_capacity_cases_drop_and_keep_what_they_say():
    cases = dict(all_cases(LOSS))
    for name, dropped in [("capacity drops most", True), ("capacity of one slot", True), ("capacity is plenty", False)]:
        params, idx, targets, config = cases[name]
        _, stats, _ = M.forward(params, tinylm_config(params, config), idx, targets)
        assert (stats["layers"][0]["dropped"] > 0.4) == dropped, name


def test_checkers_explain_failures():
    assert moe_lm.check_scalars(("ce", "aux"), (1.0, 2.0), (1.0, 2.0 + 1e-9)) is None
    msg = moe_lm.check_scalars(("ce", "aux"), (1.0, 2.0), (1.0, 2.5))
    assert msg.startswith("wrong aux") and "expected 2.0" in msg
    assert "NaN" in moe_lm.check_scalars(("ce",), (1.0,), (float("nan"),))
    assert "tuple" in moe_lm.check_scalars(("ce", "aux"), (1.0, 2.0), 1.0)
    expected = {"a": np.array([1.0, -2.0]), "b": np.zeros((2, 2))}
    assert moe_lm.check_grads(expected, {"a": np.array([1.0, -2.0]), "b": np.zeros((2, 2))}) is None
    assert "missing ['b']" in moe_lm.check_grads(expected, {"a": expected["a"]})
    assert "shape" in moe_lm.check_grads(expected, {"a": expected["a"], "b": np.zeros(4)})
    msg = moe_lm.check_grads(expected, {"a": np.zeros(2), "b": np.zeros((2, 2))})  # all zeros fails
    assert msg.startswith("wrong gradient for 1 of 2 arrays, first a") and "a[1]" in msg
