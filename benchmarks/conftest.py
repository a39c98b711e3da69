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
