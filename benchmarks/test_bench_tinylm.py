"""The tiny LM's training step (forward + backward, float32, 1 BLAS thread): tinylm's NumPy
code against the same model in PyTorch (autograd), when torch is installed.

    OMP_NUM_THREADS=1 pytest benchmarks/test_bench_tinylm.py --benchmark-json results/bench/tinylm.json
    python benchmarks/report.py results/bench/tinylm.json --baseline torch

tokens/s = batch * block / median time; both sides use the default `sparsebench lm train` model.
"""
import importlib.util

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from benchmarks.conftest import scaled
from harness import ROOT
from harness.problems import load_module
from tinylm import model as M

BATCH = max(1, scaled(16))
KINDS = {"moe": M.Config(vocab_size=65), "dense": M.Config(vocab_size=65, dense=True)}


def _inputs(cfg):
    rng = np.random.default_rng(0)
    params = M.init_params(cfg, rng)
    idx = rng.integers(0, cfg.vocab_size, (BATCH, cfg.block_size))
    return params, idx, np.roll(idx, -1, axis=1)


def _numpy_step(cfg):
    params, idx, targets = _inputs(cfg)
    return lambda: M.loss_and_grads(params, cfg, idx, targets)


def _torch_step(cfg):
    import torch

    torch.set_num_threads(1)
    baseline = load_module(ROOT / "problems/moe-lm-grad/baselines/torch.py")
    params, idx, targets = _inputs(cfg)
    config = {"n_head": cfg.n_head, "top_k": cfg.top_k, "capacity_factor": cfg.capacity_factor,
              "aux_coef": cfg.aux_coef, "z_coef": cfg.z_coef}
    return lambda: baseline.loss_and_grads(params, idx, targets, config)


IMPLS = {"numpy": _numpy_step, "torch": _torch_step}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("impl", IMPLS)
def test_training_step(benchmark, impl, kind):
    if impl == "torch" and importlib.util.find_spec("torch") is None:
        pytest.skip("torch is not installed (pip install -e '.[torch]')")
    cfg = KINDS[kind]
    step = IMPLS[impl](cfg)
    benchmark.group = f"tiny LM training step ({kind}, {BATCH}x{cfg.block_size} tokens)"
    benchmark.extra_info.update(problem="tinylm-step", impl=impl, size=BATCH * cfg.block_size)
    with threadpool_limits(1):
        benchmark.pedantic(step, rounds=10, warmup_rounds=2)
