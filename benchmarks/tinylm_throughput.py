"""The tiny LM's training step, MoE against dense at equal active parameters: tokens/s and where
the time goes, measured interleaved so that a shared machine's drift cancels.

Each round runs one full training step (batch, forward, backward, clipping, AdamW: what
train.py times) of each model on a real corpus batch, in alternating order (tinylm/throughput.py,
which `lm compare --calibrate` uses to set each model's steps). Reported: each
model's median step time and tokens/s, and the median over rounds of the per-round ratio
MoE tokens/s / dense tokens/s with a bootstrap 95% interval (rounds resampled). The issue's
target is a ratio >= 0.9 (MoE within 10% of dense), met when the interval's lower end clears it.

With --profile a second pass times every part of the step (exclusive time of each tinylm
function: attention, layer norms, router, dispatch, expert GEMMs, combine, their backwards,
the optimiser), again alternating the models; the wrapping costs ~1 us a call, so use the
first table for the ratio.

    python benchmarks/tinylm_throughput.py                       # the default `sparsebench lm` models
    python benchmarks/tinylm_throughput.py --profile --rounds 40
    python benchmarks/tinylm_throughput.py --experts 16 --expert-hidden 128 --batch 64  # twice the default batch
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

if __name__ == "__main__":  # pin every BLAS before any is loaded (numba's np.dot calls SciPy's copy)
    _threads = sys.argv[sys.argv.index("--threads") + 1] if "--threads" in sys.argv[:-1] else "1"
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ.setdefault(_var, _threads)

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from harness import stats  # noqa: E402
from tinylm import model as M, train as TR  # noqa: E402
from tinylm.data import load_corpus  # noqa: E402
from tinylm.throughput import Runner, interleaved  # noqa: E402

CLOCK = [time.perf_counter]  # --clock cpu: time.thread_time, this thread's CPU time (1 BLAS thread)
# the parts of a step: tinylm.model functions (exclusive time) and the optimiser
PARTS = ("layer_norm", "attention", "top_k", "capacity_mask", "gates_and_losses",
         "router_backward", "dispatch", "experts_forward", "combine", "moe", "dense_ffn", "forward",
         "layer_norm_backward", "attention_backward", "uncombine", "experts_backward", "moe_backward",
         "dense_ffn_backward", "backward", "log_softmax")


class Profiler:
    """Exclusive time per wrapped function (a callee's time is not its caller's)."""

    def __init__(self):
        self.acc: dict[str, float] = defaultdict(float)
        self.stack: list[list] = []
        self.saved: list[tuple] = []

    def wrap(self, owner, name: str, label: str | None = None) -> None:
        fn = getattr(owner, name)
        label = label or name
        prof = self

        @functools.wraps(fn)
        def timed(*a, **kw):
            prof.stack.append([0.0])
            t0 = CLOCK[0]()
            try:
                return fn(*a, **kw)
            finally:
                dt = CLOCK[0]() - t0
                child = prof.stack.pop()[0]
                prof.acc[label] += dt - child
                if prof.stack:
                    prof.stack[-1][0] += dt

        self.saved.append((owner, name, fn))
        setattr(owner, name, timed)

    def install(self) -> None:
        for name in PARTS:
            self.wrap(M, name)
        self.wrap(TR, "grad_norm")
        self.wrap(TR.AdamW, "step", "AdamW.step")
        self.wrap(TR, "random_batch")

    def remove(self) -> None:
        for owner, name, fn in reversed(self.saved):
            setattr(owner, name, fn)
        self.saved.clear()

    def take(self) -> dict[str, float]:
        out, self.acc = dict(self.acc), defaultdict(float)
        return out


def profile(runners: dict[str, Runner], rounds: int) -> dict[str, dict[str, float]]:
    """Median over rounds of each part's time per step, per model."""
    prof = Profiler()
    prof.install()
    try:
        parts: dict[str, list[dict]] = {n: [] for n in runners}
        names = list(runners)
        for i in range(rounds):
            for n in names[i % len(names):] + names[:i % len(names)]:
                prof.take()
                total = runners[n].step()
                row = prof.take()
                row["step (total)"] = total
                parts[n].append(row)
    finally:
        prof.remove()
    out = {}
    for n, rows in parts.items():
        keys = sorted({k for r in rows for k in r})
        out[n] = {k: float(np.median([r.get(k, 0.0) for r in rows])) for k in keys}
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", default="pydoc")
    p.add_argument("--rounds", type=int, default=30)
    p.add_argument("--profile", action="store_true", help="also time every part of the step")
    p.add_argument("--batch", type=int, default=TR.TrainConfig.batch_size)
    p.add_argument("--experts", type=int, default=M.Config.n_expert)
    p.add_argument("--top-k", type=int, default=M.Config.top_k)
    p.add_argument("--expert-hidden", type=int, default=M.Config.expert_hidden)
    p.add_argument("--layers", type=int, default=M.Config.n_layer)
    p.add_argument("--embd", type=int, default=M.Config.n_embd)
    p.add_argument("--heads", type=int, default=M.Config.n_head)
    p.add_argument("--block", type=int, default=M.Config.block_size)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="wall: time.perf_counter (what train.py counts); cpu: this thread's CPU time, which "
                        "leaves out the time other processes hold the core (a loaded machine), not their cache use")
    p.add_argument("--numpy", action="store_true", help="the NumPy kernels (default: Numba's, as train() uses)")
    p.add_argument("--json", type=Path, help="also write the figures here")
    args = p.parse_args(argv)
    if args.clock == "cpu":
        if args.threads != 1:
            p.error("--clock cpu measures one thread: use --threads 1")
        CLOCK[0] = time.thread_time
    from threadpoolctl import threadpool_limits

    TR.keep_freed_memory()  # as train() does
    M.use_numba(not args.numpy)
    corpus = load_corpus(args.corpus)
    import scipy.linalg  # noqa: F401 - load SciPy's BLAS (the kernels' np.dot) before limiting threads
    moe = M.Config(vocab_size=corpus.vocab_size, n_expert=args.experts, top_k=args.top_k,
                   expert_hidden=args.expert_hidden, n_layer=args.layers, n_embd=args.embd, n_head=args.heads,
                   block_size=args.block)
    dense = replace(moe, dense=True)
    tc = TR.TrainConfig(batch_size=args.batch, minutes=None, max_steps=10**9)
    runners = {"moe": Runner(moe, tc, corpus, clock=CLOCK[0]), "dense": Runner(dense, tc, corpus, clock=CLOCK[0])}
    tokens = args.batch * args.block
    counts = M.param_counts(moe)
    print(f"{corpus.name}: MoE E={moe.n_expert} k={moe.top_k} H={moe.expert_hidden} vs dense Hd={moe.dense_hidden}, "
          f"D={moe.n_embd} L={moe.n_layer} T={moe.block_size} batch {args.batch} ({tokens} tokens/step); "
          f"{counts['active']:,} active, {counts['total']:,} total (MoE); {args.threads} BLAS thread(s), "
          f"{args.rounds} rounds, {args.clock} clock, {'NumPy' if args.numpy else 'Numba'} kernels", flush=True)
    result: dict = {"config": {"moe": vars(moe) if hasattr(moe, "__dict__") else str(moe)}, "rounds": args.rounds}
    with threadpool_limits(limits=args.threads, user_api="blas"):
        t = interleaved(runners, args.rounds)
        ratio = stats.paired_ratios(t["dense"], t["moe"])  # = MoE tokens/s over dense tokens/s, per round
        lo, hi = stats.percentile_interval(stats.bootstrap_paired_ratios(t["dense"], t["moe"],
                                                                         np.random.default_rng(0)))
        for n, v in t.items():
            print(f"  {n:6s} step {np.median(v) * 1e3:8.2f} ms  {tokens / np.median(v):9,.0f} tokens/s")
        met = "met" if lo >= 0.9 else "not met"
        print(f"  MoE tokens/s / dense tokens/s: {np.median(ratio):.3f} [{lo:.3f}, {hi:.3f}] "
              f"(target >= 0.9: {met})", flush=True)
        result.update(step_s={n: float(np.median(v)) for n, v in t.items()}, ratio=float(np.median(ratio)),
                      ratio_ci=[lo, hi])
        if args.profile:
            parts = profile(runners, args.rounds)
            result["parts_s"] = parts
            keys = sorted(set(parts["moe"]) | set(parts["dense"]),
                          key=lambda k: -max(parts["moe"].get(k, 0), parts["dense"].get(k, 0)))
            print(f"  {'part (exclusive, median per step)':36s} {'moe ms':>8s} {'dense ms':>9s}")
            for k in keys:
                a, b = parts["moe"].get(k, 0.0), parts["dense"].get(k, 0.0)
                print(f"  {k:36s} {a * 1e3:8.2f} {b * 1e3:9.2f}")
    if args.json:
        result["config"] = {"moe": str(moe)}
        args.json.write_text(json.dumps(result, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
