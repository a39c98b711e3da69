"""The PyTorch baselines (optional `torch` extra): skipped when torch is not installed.
torch's autograd is also an independent check of the backward reference."""
from __future__ import annotations

import numpy as np
import pytest

from harness import ROOT, problems
from harness.problems import load_module
from problems._common import moe
from tests.moe_oracles import reference

torch = pytest.importorskip("torch")

SLUGS = ("moe-forward", "moe-backward")


def baseline(module: str):
    return load_module(problems.get(module.replace("_", "-")).baselines["torch"])


@pytest.mark.parametrize("slug", SLUGS)
def test_spec_lists_the_torch_baseline(slug):
    assert problems.get(slug).baselines == {"torch": ROOT / "problems" / slug / "baselines" / "torch.py"}


@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize("case", ["worked example", "ties in the router", "0 tokens", "k = E: every expert",
                                  "large router logits"])
def test_baseline_agrees_with_the_reference(slug, case):
    problem = problems.get(slug)
    (found,) = [c for c in problem.edge_cases if c.name == case]
    args = found.make(np.random.default_rng(0))
    fn = getattr(baseline(problem.module_name), problem.entry)
    want = getattr(reference(f"{problem.module_name}_numpy"), problem.entry)(*args)
    assert problem.check(args, want, fn(*args)) is None


def test_autograd_matches_the_backward_reference_in_float64():
    rng = np.random.default_rng(7)
    T, D, H, E, k = 20, 5, 6, 4, 2
    args = (rng.standard_normal((T, D)), rng.standard_normal((D, E)), rng.standard_normal((E, D, H)),
            rng.standard_normal((E, H, D)), k, rng.standard_normal((T, D)), 0.8, 0.3, 0.2)
    got = baseline("moe_backward").moe_backward(*args)
    want = reference("moe_backward_numpy").moe_backward(*args)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


def test_forward_baseline_on_a_benchmark_shape():
    args = moe.forward_args(np.random.default_rng(8), 512, 64, 128, 8, 2, None)
    want = reference("moe_forward_numpy").moe_forward(*args)
    assert moe.check_forward(args, want, baseline("moe_forward").moe_forward(*args)) is None
