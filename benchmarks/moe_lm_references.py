"""moe-lm-loss and moe-lm-grad: the Numba reference against the NumPy one, interleaved.

Each round times both references once on the same bench input (the problem's make_bench at its
bench sizes), in alternating order; reported per size: each one's median time and the median of
the per-round ratios numba_time / numpy_time with a bootstrap 95% interval (rounds resampled).
The spec's timing_reference is numba only where the whole interval lies below 1.

    python benchmarks/moe_lm_references.py                     # both problems, their bench sizes
    python benchmarks/moe_lm_references.py --problem moe-lm-grad --sizes 1024 --rounds 31
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

if __name__ == "__main__":  # pin every BLAS before any is loaded (numba's np.dot calls SciPy's copy)
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ.setdefault(_var, "1")

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from benchmarks.grouped_gemm_vs_dense import bootstrap_median  # noqa: E402
from harness import problems, stats  # noqa: E402
from harness.problems import load_module  # noqa: E402

PROBLEMS = ("moe-lm-loss", "moe-lm-grad")


def measure(slug: str, size: int, rounds: int, clock=time.perf_counter) -> dict:
    problem = problems.get(slug)
    args = problem.make_bench(np.random.default_rng(0), size)
    impls = {name: getattr(load_module(problem.references[name]), problem.entry) for name in ("numpy", "numba")}
    expected = impls["numpy"](*args)
    message = problem.check(args, expected, impls["numba"](*args))  # also the warm-up (JIT compilation)
    if message:
        raise SystemExit(f"{slug} numba is wrong on the bench input: {message.splitlines()[0]}")
    names = list(impls)
    times: dict[str, list[float]] = {n: [] for n in names}
    for r in range(rounds):
        for n in names[r % 2:] + names[:r % 2]:
            t0 = clock()
            impls[n](*args)
            times[n].append(clock() - t0)
    t = {n: np.asarray(v) for n, v in times.items()}
    ratio = t["numba"] / t["numpy"]
    lo, hi = bootstrap_median(ratio, np.random.default_rng(1))
    return {"problem": slug, "size": size, "rounds": rounds,
            "median_s": {n: stats.median(v) for n, v in t.items()},
            "spread": {n: stats.spread(v) for n, v in t.items()},
            "ratio": float(np.median(ratio)), "ratio_ci": [lo, hi]}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--problem", choices=(*PROBLEMS, "both"), default="both")
    p.add_argument("--sizes", default="", help="comma-separated token counts (default: the bench sizes)")
    p.add_argument("--rounds", type=int, default=21)
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="cpu: this thread's CPU time (leaves out other processes' turns on a shared machine)")
    args = p.parse_args(argv)
    import scipy.linalg  # noqa: F401 - SciPy's BLAS (Numba's np.dot) loaded before the threads are pinned
    from threadpoolctl import threadpool_limits

    clock = time.thread_time if args.clock == "cpu" else time.perf_counter
    with threadpool_limits(1):
        for slug in PROBLEMS if args.problem == "both" else (args.problem,):
            sizes = [int(s) for s in args.sizes.split(",") if s] or problems.get(slug).bench_sizes
            for size in sizes:
                r = measure(slug, size, args.rounds, clock)
                lo, hi = r["ratio_ci"]
                print(f"{slug:12s} {size:6d} tokens: numpy {r['median_s']['numpy'] * 1e3:8.1f} ms "
                      f"±{100 * r['spread']['numpy']:4.1f}%  numba {r['median_s']['numba'] * 1e3:8.1f} ms "
                      f"±{100 * r['spread']['numba']:4.1f}%  numba/numpy {r['ratio']:.3f} [{lo:.3f}, {hi:.3f}] "
                      f"({args.rounds} rounds, {args.clock} clock)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
