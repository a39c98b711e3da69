"""Grouped GEMMs and dropless MoE layers against one dense GEMM of equal FLOPs (and torch).

The issue's targets, one thread:
    grouped-gemm           >= 0.9x the dense rate on balanced groups, >= 0.8x on a skewed mix
    moe-dropless           >= 0.9x the dense rate, >= 1.2x the torch baseline
(grouped-gemm-backward and moe-dropless-backward are measured the same way, for the record).

Each round times every implementation once on the same inputs, in a rotating order, right
after each other; the per-round ratio dense_time / impl_time (> 1: faster than the dense
GEMM) and torch_time / impl_time cancel slow drifts of a shared machine. Reported: the median
of the per-round ratios and a bootstrap 95% interval (rounds resampled), the median time and
its spread (interquartile range / median): harness.pairs and harness.stats, the code
benchmarks/yardstick_table.py times with. The dense GEMM is (M, D) @ (D, N) with
2·M·D·N equal to the implementation's FLOP model (M = rows unless N is moved off a multiple
of 256 columns, whose cache aliasing slowed the peer: harness.yardstick.equal_flop_shape), written
into one output allocated once (harness.yardstick.gemm_pass: the BLAS's rate, not the allocator's).

    python benchmarks/grouped_gemm_vs_dense.py                          # all four, balanced and skewed
    python benchmarks/grouped_gemm_vs_dense.py --problem grouped-gemm --mix skewed --rounds 41
    python benchmarks/grouped_gemm_vs_dense.py --scale 0.125 --rounds 5  # a quick smoke run
    python benchmarks/grouped_gemm_vs_dense.py --json out.json          # the figures as JSON too

Mixes: balanced = every expert the same number of rows (within one); skewed = expert 0 holds
half of the rows (grouped GEMM) or is every token's 1st choice (top-2 layer: half of the
assignments), the others share the rest. Run it on a quiet machine: figures from a busy one
are noise (the interval says how much).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

if __name__ == "__main__":  # pin every BLAS before any is loaded (numba's np.dot uses SciPy's copy)
    _threads = sys.argv[sys.argv.index("--threads") + 1] if "--threads" in sys.argv[:-1] else "1"
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ.setdefault(_var, _threads)

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from harness import pairs, problems, stats, yardstick  # noqa: E402
from harness.problems import load_module  # noqa: E402
from problems._common import dropless, moe  # noqa: E402

PROBLEMS = ("grouped-gemm", "grouped-gemm-backward", "moe-dropless", "moe-dropless-backward")
MIXES = ("balanced", "skewed")


def case_args(slug: str, mix: str, rows: int, D: int, H: int, E: int, k: int, seed: int = 0) -> tuple:
    """The inputs of one benchmark case (float32, the grader's grids)."""
    rng = np.random.default_rng(seed)
    if slug.startswith("grouped-gemm"):
        N = rows
        x = (rng.integers(-8, 9, (N, D)) * moe.X_GRID).astype(np.float32)
        w = moe.expert_weights(rng, D, H, E)[0]
        sizes = dropless.group_sizes(rng, N, E, mix)
        if slug == "grouped-gemm":
            return x, sizes, w
        return x, sizes, w, rng.standard_normal((N, H)).astype(np.float32)
    routing = "balanced" if mix == "balanced" else "skewed"
    x, expert, gate, w1, w2 = dropless.dropless_args(rng, rows, D, H, E, k, routing)
    if slug == "moe-dropless":
        return x, expert, gate, w1, w2
    return x, expert, gate, w1, w2, moe.upstream_grad(rng, rows, D)


def implementations(problem, wanted: list[str]) -> dict:
    """The problem's references and baselines named in `wanted` that can run here."""
    found = {}
    for name in wanted:
        path = problem.references.get(name) or problem.baselines.get(name)
        if path is None or not problems.runnable(path):
            continue
        found[name] = getattr(load_module(path), problem.entry)
    return found


def measure(slug: str, mix: str, *, rows: int, D: int, H: int, E: int, k: int, rounds: int,
            impls: list[str], threads: int = 1, seed: int = 0) -> dict:
    """Time dense and every implementation, `rounds` rounds, and summarise the ratios."""
    problem = problems.get(slug)
    args = case_args(slug, mix, rows, D, H, E, k, seed)
    flops = float(problem.flops_of(args))
    m, _, n_cols = yardstick.equal_flop_shape(flops, rows, D)  # the width off a multiple of 256
    rng = np.random.default_rng(seed + 1)
    a = rng.standard_normal((m, D)).astype(np.float32)
    b = rng.standard_normal((D, n_cols)).astype(np.float32)
    fns = {"dense": yardstick.gemm_pass(a, b)}
    oracle = getattr(load_module(problem.reference_path(problem.oracle)), problem.entry)
    expected = oracle(*args)
    for name, fn in implementations(problem, impls).items():
        message = problem.check(args, expected, fn(*args))  # also the warm-up (JIT compilation)
        if message:
            raise SystemExit(f"{slug} {name} is wrong on the benchmark input: {message.splitlines()[0]}")
        fns[name] = (lambda f: lambda: f(*args))(fn)
    fns["dense"]()
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=threads):  # after the warm-ups: every BLAS copy is loaded by now
        # round r calls everyone once, the order rotated by r (harness.pairs: the table's timing too)
        t = pairs.interleave([pairs.Side(name, fn) for name, fn in fns.items()], min_rounds=rounds, warmup=False)
    out = {"problem": slug, "mix": mix, "rows": rows, "D": D, "H": H, "E": E, "k": k, "rounds": rounds,
           "flops": flops, "dense_shape": [m, D, n_cols], "impls": {}}
    if slug.startswith("grouped-gemm"):
        out["group_sizes"] = [int(s) for s in args[1]]
    else:
        out["assignments_per_expert"] = np.bincount(args[1].reshape(-1), minlength=E).tolist()
    for name, v in t.items():
        row = {"median_s": stats.median(v), "spread": stats.spread(v), "gflops": flops / stats.median(v) / 1e9}
        if name != "dense":
            vs = pairs.ratio(t["dense"], v, seed=seed + 2)  # per-round dense / impl: > 1 beats the dense GEMM
            row["vs_dense"], row["vs_dense_ci"] = vs.median, (vs.lo, vs.hi)
            if "torch" in t and name != "torch":
                vs = pairs.ratio(t["torch"], v, seed=seed + 2)
                row["vs_torch"], row["vs_torch_ci"] = vs.median, (vs.lo, vs.hi)
        out["impls"][name] = row
    return out


def report(result: dict) -> str:
    head = (f"{result['problem']} ({result['mix']}): rows={result['rows']:,} D={result['D']} H={result['H']} "
            f"E={result['E']}" + (f" k={result['k']}" if result["problem"].startswith("moe") else "")
            + f", {result['flops'] / 1e9:.2f} GFLOP, dense {tuple(result['dense_shape'])}, {result['rounds']} rounds")
    lines = [head]
    for name, row in result["impls"].items():
        text = f"  {name:8s} {row['median_s'] * 1e3:9.2f} ms ±{100 * row['spread']:4.1f}%  {row['gflops']:7.1f} GFLOP/s"
        if "vs_dense" in row:
            lo, hi = row["vs_dense_ci"]
            text += f"   {row['vs_dense']:.3f}x dense [{lo:.3f}, {hi:.3f}]"
        if "vs_torch" in row:
            lo, hi = row["vs_torch_ci"]
            text += f"   {row['vs_torch']:.3f}x torch [{lo:.3f}, {hi:.3f}]"
        lines.append(text)
    return "\n".join(lines)


def _pin_threads(n: int) -> dict:
    """BLAS, Numba and torch threads; returns what was set (recorded with the figures)."""
    from threadpoolctl import threadpool_info, threadpool_limits

    import numba

    import scipy.linalg  # noqa: F401 - load SciPy's BLAS (numba's np.dot calls it) before limiting

    threadpool_limits(n)
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    info = {"threads": n, "blas": sorted({f"{p['internal_api']} {p.get('version')}" for p in threadpool_info()})}
    try:
        import torch

        torch.set_num_threads(n)
        info["torch"] = torch.__version__
    except ImportError:
        pass
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problem", choices=(*PROBLEMS, "all"), default="all")
    parser.add_argument("--mix", choices=(*MIXES, "both"), default="both")
    parser.add_argument("--rows", type=int, default=8192, help="N rows (grouped GEMM) or T tokens (MoE layer)")
    parser.add_argument("--D", type=int, default=512)
    parser.add_argument("--H", type=int, default=1024)
    parser.add_argument("--E", type=int, default=8)
    parser.add_argument("--k", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies rows (a quick run: 0.125)")
    parser.add_argument("--impl", default="numba,numpy,torch", help="references/baselines to time, by key")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    setup = _pin_threads(args.threads)
    print(f"threads {setup}", flush=True)
    rows = max(args.E, round(args.rows * args.scale))
    results = []
    for slug in PROBLEMS if args.problem == "all" else (args.problem,):
        for mix in MIXES if args.mix == "both" else (args.mix,):
            result = measure(slug, mix, rows=rows, D=args.D, H=args.H, E=args.E, k=args.k, rounds=args.rounds,
                             impls=[s for s in args.impl.split(",") if s], threads=args.threads)
            result["setup"] = setup
            results.append(result)
            print(report(result), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
