"""What the pytest-benchmark suites share: the input matrices (built once per session),
solution loading, and thread control for Numba.

Sizes follow the issue: (a) a 3D Laplacian of about 10⁶ rows, (b) a uniform random
2·10⁶ × 2·10⁶ matrix with 10 entries per row, (c) power-law rows (10⁶ rows, 10⁷ entries).
SPARSEBENCH_BENCH_SCALE (default 1) multiplies the row counts, for a quick smoke run:
    SPARSEBENCH_BENCH_SCALE=0.01 pytest benchmarks/
"""
from __future__ import annotations

import contextlib
from functools import cache

import numpy as np

from benchmarks.conftest import SCALE, scaled
from harness import ROOT
from harness.problems import load_module
from harness.types import CSR
from problems._common import generators as gen

STRUCTURES = ("laplacian-3d", "uniform", "power-law")


@cache
def matrix(structure: str) -> CSR:
    """The benchmark input for a structure, at SCALE (seeded: the same on every run)."""
    rng = np.random.default_rng(20240601)
    if structure == "laplacian-3d":
        return gen.laplacian_3d(max(2, round(100 * SCALE ** (1 / 3))))
    if structure == "uniform":
        n = max(8, scaled(2_000_000))
        return gen.uniform(rng, n, n, per_row=10)
    if structure == "power-law":
        n = max(8, scaled(1_000_000))
        return gen.power_law(rng, n, n, nnz=10 * n)
    raise ValueError(structure)


def load_solution(rel_path: str):
    return load_module(ROOT / rel_path)


@contextlib.contextmanager
def numba_threads(n: int):
    import numba

    before = numba.get_num_threads()
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    try:
        yield
    finally:
        numba.set_num_threads(before)


def run(benchmark, fn, args, *, rounds: int, threads: int = 1):
    """Time fn(*args): one untimed warm-up call (JIT compilation), then `rounds` calls."""
    with numba_threads(threads):
        return benchmark.pedantic(fn, args=args, rounds=rounds, iterations=1, warmup_rounds=1)
