"""The MoE checkers and input generators: exact router logits, the tie rule, float32
tolerances that scale with the answer (so zeros never pass), clear failure messages."""
from __future__ import annotations

import collections

import numpy as np
import pytest

from harness import examples, problems
from harness.grader import grade
from problems._common import moe
from tests.moe_oracles import reference

ROUTE = reference("moe_router_numpy").route
FORWARD = reference("moe_forward_numpy").moe_forward
BACKWARD = reference("moe_backward_numpy").moe_backward


@pytest.mark.parametrize("D", [4, 512, 4096])
@pytest.mark.parametrize("options", [{}, {"skew": True}, {"router_scale": 2.0**12}])
def test_grid_inputs_make_logits_and_hidden_layer_exact_in_float32(D, options):
    x, w_router, w1, _ = moe.layer(np.random.default_rng(D), 64, D, 16, 8, **options)
    for w in (w_router, w1[0], w1[-1]):
        exact = x.astype(np.float64) @ w.astype(np.float64)
        assert np.array_equal(x @ w, exact)
        assert np.array_equal(x[:, ::-1] @ w[::-1], exact)  # another summation order
    assert np.unique(w1).size > 500 or D < 8  # still looks Gaussian, not a handful of levels


def test_routing_accepts_namedtuple_lookalike_and_plain_tuple():
    logits = np.random.default_rng(0).standard_normal((6, 4))
    want = ROUTE(logits, 2, 1.0)
    lookalike = collections.namedtuple("Routing", want._fields)(*want)
    assert moe.check_routing(logits, 2, 1.0, want, lookalike) is None
    assert moe.check_routing(logits, 2, 1.0, want, tuple(want)) is None
    assert moe.check_routing(logits, 2, 1.0, want, tuple(want) + (1,)).startswith("returned tuple of length 6")


def test_routing_tie_broken_the_wrong_way_is_explained():
    logits = np.zeros((2, 4))
    want = ROUTE(logits, 2, None)
    got = want._replace(expert=np.array([[1, 0], [0, 1]], dtype=np.int32))
    message = moe.check_routing(logits, 2, None, want, got)
    assert "1 of 2 tokens" in message and "equal logits: the lower expert index wins" in message


@pytest.mark.parametrize("field,value,needle", [
    ("gate", lambda r: r.gate.astype(np.float32), "float64"),
    ("kept", lambda r: r.kept.astype(np.int8), "bool"),
    ("expert", lambda r: r.expert[:, :1], "shape"),
    ("aux_loss", lambda r: "1.0", "must be a float"),
    ("aux_loss", lambda r: r.aux_loss * (1 + 1e-6), "relative error 1e-06, tolerance 1e-09"),
    ("z_loss", lambda r: 0.0, "z_loss"),
    ("gate", lambda r: np.zeros_like(r.gate), "gate:"),
])
def test_routing_field_errors(field, value, needle):
    logits = np.random.default_rng(1).standard_normal((8, 4)) * 3
    want = ROUTE(logits, 2, 1.0)
    message = moe.check_routing(logits, 2, 1.0, want, want._replace(**{field: value(want)}))
    assert message and needle in message, message


def test_routing_accepts_scalar_arrays_and_rounding():
    logits = np.random.default_rng(2).standard_normal((8, 4))
    want = ROUTE(logits, 2, 1.0)
    got = want._replace(aux_loss=np.float64(want.aux_loss), z_loss=np.array(want.z_loss * (1 + 1e-13)),
                        gate=want.gate * (1 + 1e-14), expert=want.expert.astype(np.int64))
    assert moe.check_routing(logits, 2, 1.0, want, got) is None


def _forward_case():
    return problems.get("moe-forward").make_random(np.random.default_rng(5), 200)


def test_forward_tolerance_passes_rounding_and_fails_zeros_and_one_percent():
    args = _forward_case()
    y = FORWARD(*args)
    from tests.moe_oracles import forward_dense

    exact = forward_dense(*args)
    assert moe.check_forward(args, y, exact.astype(np.float32)) is None  # float64 answer rounded
    zeros = moe.check_forward(args, y, np.zeros_like(y))
    assert zeros and "all zeros" in zeros
    noisy = y * np.float32(1.01)
    assert moe.check_forward(args, y, noisy) is not None
    one = y.copy()
    row = int(np.argmax(np.abs(y).max(axis=1)))
    one[row, 0] += np.float32(1e-3) * np.abs(y[row]).max()  # one value off by 0.1% of its row
    assert "1 of" in moe.check_forward(args, y, one)


def test_forward_rejects_wrong_dtype_and_nan():
    args = _forward_case()
    y = FORWARD(*args)
    assert "dtype" in moe.check_forward(args, y, y.astype(np.float64))
    bad = y.copy()
    bad[3, 1] = np.nan
    assert "NaN in result: True" in moe.check_forward(args, y, bad)


def test_backward_tolerance_passes_float64_and_fails_zeros():
    args = problems.get("moe-backward").make_random(np.random.default_rng(6), 200)
    want = BACKWARD(*args)
    as64 = tuple(a.astype(np.float64) if isinstance(a, np.ndarray) and a.dtype == np.float32 else a for a in args)
    exact = tuple(g.astype(np.float32) for g in BACKWARD(*as64))
    assert moe.check_backward(args, want, exact) is None
    for i, name in enumerate(("dx", "dw_router", "dw1", "dw2")):
        got = list(want)
        got[i] = np.zeros_like(got[i])
        message = moe.check_backward(args, want, tuple(got))
        assert message and message.startswith(name) and "all zeros" in message


def test_all_zero_expectations_accept_zeros():
    """dy = 0: dw1 and dw2 are exactly zero, so zeros (and only near-zeros) are right there."""
    problem = problems.get("moe-backward")
    (case,) = [c for c in problem.edge_cases if c.name.startswith("dy = 0")]
    args = case.make(np.random.default_rng(0))
    want = BACKWARD(*args)
    assert not want[2].any() and not want[3].any() and want[1].any()
    assert moe.check_backward(args, want, want) is None


def test_naive_softmax_failure_is_reported_clearly():
    with examples.get(problems.get("moe-router"), "naive_softmax").file() as path:
        rec = grade(problems.get("moe-router"), path, plan="off")
    assert rec["verdict"] == "WA"
    assert rec["failure"]["case"] == "logits of +-1e4, k = 2"
    assert "NaN in result: True" in rec["failure"]["diff"] and "subtract the row maximum" in rec["failure"]["diff"]
