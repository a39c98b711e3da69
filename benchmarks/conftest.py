"""Benchmarks: references against library baselines, side by side in one run.

Run:  pytest benchmarks/ --benchmark-json results/bench/NAME.json
then: python benchmarks/report.py results/bench/NAME.json
Set SPARSEBENCH_BENCH_SCALE=0.01 for a fast smoke run at reduced sizes.
"""
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SCALE = float(os.environ.get("SPARSEBENCH_BENCH_SCALE", "1"))


def scaled(n: int) -> int:
    return max(1, int(n * SCALE))


def pytest_benchmark_update_machine_info(config, machine_info):
    """Record this machine's hardware yardsticks (STREAM triad, dense GEMM; measured once per
    machine and cached, see harness/yardstick.py) with the results, so a report can turn
    GB/s into % of bandwidth for the machine the figures came from."""
    from harness import yardstick

    machine_info["sparsebench_yardstick"] = {str(t): yardstick.lookup(t) for t in (1, 2)}
    machine_info["sparsebench_scale"] = SCALE
