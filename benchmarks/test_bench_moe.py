"""MoE layer benchmarks (pytest-benchmark): the references and the torch baseline against
one dense NumPy GEMM doing the same number of FLOPs, on the same machine in the same run.

    pytest benchmarks/test_bench_moe.py                                # full size: a quiet machine
    SPARSEBENCH_BENCH_SCALE=0.0625 pytest benchmarks/test_bench_moe.py # T / 16: a quick smoke run
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 pytest benchmarks/...     # single-thread figures

Cases: moe_forward and moe_backward at T = 8192, D = 512, H = 1024, E = 8, k = 2, float32,
dropless; the forward with skewed routing (expert 0 is every token's 1st choice: half of
all assignments); the forward at T = 128, where per-expert overheads dominate. The scale
multiplies T (except the T = 128 case). A summary of GFLOP/s and of the ratios the issue
asks for (forward >= 0.9x dense, >= 1.2x torch; backward >= 0.8x dense) is printed at the end.
Benchmarks are not part of the default test run (testpaths = tests).
"""
from __future__ import annotations

import os
import sys
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from harness import yardstick  # noqa: E402
from harness.problems import load_module  # noqa: E402
from problems._common import moe  # noqa: E402

SCALE = float(os.environ.get("SPARSEBENCH_BENCH_SCALE", "1"))
ROUNDS = int(os.environ.get("SPARSEBENCH_BENCH_ROUNDS", "5"))
D, H, E, K = 512, 1024, 8, 2
T_FULL = max(64, round(8192 * SCALE))

# case -> (entry, T, layer options)
CASES = {
    f"forward T={T_FULL}": ("moe_forward", T_FULL, {}),
    f"forward skewed T={T_FULL}": ("moe_forward", T_FULL, {"skew": True}),
    "forward T=128": ("moe_forward", 128, {}),
    f"backward T={T_FULL}": ("moe_backward", T_FULL, {}),
}
RATES: dict[tuple[str, str], float] = {}


def _has_torch() -> bool:
    import importlib.util

    return importlib.util.find_spec("torch") is not None


@cache
def implementation(entry: str, kind: str):
    """A reference (numpy, numba) or the torch baseline, loaded under a stable module name."""
    folder = "baselines" if kind == "torch" else "reference"
    return getattr(load_module(ROOT / "problems" / entry.replace("_", "-") / folder / f"{kind}.py"), entry)


@cache
def case_args(case: str) -> tuple:
    entry, T, options = CASES[case]
    rng = np.random.default_rng(8192)
    if entry == "moe_forward":
        return moe.forward_args(rng, T, D, H, E, K, None, **options)
    return moe.backward_args(rng, T, D, H, E, K, None, **options)


def case_flops(case: str) -> float:
    entry, T, _ = CASES[case]
    model = moe.forward_flops if entry == "moe_forward" else moe.backward_flops
    return model(T, D, H, E, T * K)


@cache
def dense_operands(case: str) -> tuple[np.ndarray, np.ndarray]:
    """x (M, D) @ W (D, N) with 2·M·D·N = the case's FLOPs (harness.yardstick.equal_flop_shape;
    M = T unless N is moved off a multiple of 256): the rate to beat."""
    _, T, _ = CASES[case]
    M, _, N = yardstick.equal_flop_shape(case_flops(case), T, D)
    rng = np.random.default_rng(0)
    return (rng.standard_normal((M, D)).astype(np.float32), rng.standard_normal((D, N)).astype(np.float32))


def _record(benchmark, case: str, impl: str, flops: float) -> None:
    stats = getattr(benchmark, "stats", None)
    if stats is None:  # --benchmark-disable
        return
    rate = flops / stats.stats.median / 1e9
    benchmark.extra_info.update(gflops=rate, flops=flops, scale=SCALE)
    RATES[(case, impl)] = rate


class _Summary:
    """A plugin object: pytest calls its hook after the run, outside output capture."""

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if not RATES:
            return
        threads = {v: os.environ.get(v, "unset") for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
        if _has_torch():
            import torch

            threads["torch"] = str(torch.get_num_threads())
        terminalreporter.write_sep("=", f"MoE GFLOP/s, median (scale {SCALE:g}, threads {threads})")
        for case in CASES:
            dense = RATES.get((case, "dense"))
            row = []
            for impl in ("dense", "numba", "numpy", "torch"):
                rate = RATES.get((case, impl))
                if rate is not None:
                    ratio = f" = {rate / dense:.2f}x dense" if dense and impl != "dense" else ""
                    row.append(f"{impl} {rate:.1f}{ratio}")
            torch_rate, numba_rate = RATES.get((case, "torch")), RATES.get((case, "numba"))
            if torch_rate and numba_rate:
                row.append(f"numba/torch {numba_rate / torch_rate:.2f}x")
            if row:
                terminalreporter.write_line(f"{case:28s} " + "; ".join(row))


@pytest.fixture(scope="module", autouse=True)
def summary(request):
    plugin = _Summary()
    request.config.pluginmanager.register(plugin, "sparsebench-moe-summary")
    yield


IMPLEMENTATIONS = ("dense", "numba", "numpy", "torch")


@pytest.mark.parametrize("case,impl", [(c, i) for c in CASES for i in IMPLEMENTATIONS])  # case by case
def test_moe(benchmark, case, impl):
    benchmark.group = case
    if impl == "dense":
        a, b = dense_operands(case)
        benchmark.pedantic(np.matmul, (a, b), rounds=ROUNDS, warmup_rounds=1)
        _record(benchmark, case, impl, 2.0 * a.shape[0] * a.shape[1] * b.shape[1])
        return
    if impl == "torch" and not _has_torch():
        pytest.skip("torch is not installed (optional extra: pip install 'sparsebench[torch]')")
    entry = CASES[case][0]
    args = case_args(case)
    fn = implementation(entry, impl)
    check = moe.check_forward if entry == "moe_forward" else moe.check_backward
    message = check(args, implementation(entry, "numpy")(*args), fn(*args))  # also the warm-up
    assert message is None, message
    benchmark.pedantic(fn, args, rounds=ROUNDS, warmup_rounds=1)
    _record(benchmark, case, impl, case_flops(case))
