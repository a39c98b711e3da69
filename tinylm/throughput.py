"""Two models' training steps timed side by side, and the equal-time budget that follows.

A five-minute budget read off a clock gives each run as many steps as the host allowed while it
ran: on a shared machine a run that happened to go slow trains less, and that drift shows up as
seed-to-seed spread. `lm compare --calibrate` instead times one full training step of each model
in alternating rounds first (what a slow moment does to a round, it does to both), then gives
each run the steps its model's measured rate does in the budget. The runs are then equal in time
at one measured rate and reproducible: a seed gives the same run on any load.
benchmarks/tinylm_throughput.py times steps the same way.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace

import numpy as np

from harness import stats

from . import model as M
from . import train as TR
from .data import Corpus

ROUNDS = 20  # per model: ~7 s for the default models (0.15-0.17 s a step at batch 32, one Xeon core)
WARMUP = 3


class Runner:
    """One model training on the corpus from its own seed: `step()` is one timed training step
    (batch, forward, backward, clipping, AdamW: what train() times)."""

    def __init__(self, cfg: M.Config, tc: TR.TrainConfig, corpus: Corpus, seed: int = 0,
                 clock: Callable[[], float] = time.perf_counter):
        self.cfg, self.tc, self.corpus, self.clock = cfg, tc, corpus, clock
        init, self.rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
        self.params = M.init_params(cfg, init)
        self.opt = TR.AdamW(self.params, tc)
        self.n = 0

    def step(self) -> float:
        t0 = self.clock()
        idx, targets = TR.random_batch(self.corpus.train, self.tc.batch_size, self.cfg.block_size, self.rng)
        lr = TR.learning_rate(self.tc, self.n, 0.0)
        TR.train_step(self.params, self.cfg, self.tc, self.opt, idx, targets, lr)
        self.n += 1
        return self.clock() - t0


def interleaved(runners: dict[str, Runner], rounds: int, warmup: int = WARMUP) -> dict[str, np.ndarray]:
    """Seconds per step of each runner over `rounds` rounds, one step each per round, the order
    rotated every round; `warmup` untimed rounds first."""
    names = list(runners)
    for _ in range(warmup):
        for r in runners.values():
            r.step()
    times: dict[str, list[float]] = {n: [] for n in names}
    for i in range(rounds):
        for n in names[i % len(names):] + names[:i % len(names)]:
            times[n].append(runners[n].step())
    return {n: np.asarray(v) for n, v in times.items()}


@dataclass(frozen=True)
class Calibration:
    """What the side-by-side rounds measured: each model's median seconds per step, and MoE's
    tokens/s over dense's (the median of the per-round ratios) with a bootstrap 95% interval;
    `minutes` is the budget that the rates turn into steps."""

    moe_step_s: float
    dense_step_s: float
    ratio: float
    low: float
    high: float
    rounds: int
    clock: str
    minutes: float

    def steps(self) -> dict[str, int]:
        """Each model's steps in the budget at its measured rate."""
        return {"moe": max(1, round(self.minutes * 60 / self.moe_step_s)),
                "dense": max(1, round(self.minutes * 60 / self.dense_step_s))}

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Calibration:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__})

    def text(self) -> str:
        s = self.steps()
        return (f"Equal training time by calibration: {self.minutes:g} min at each model's step rate, measured in "
                f"{self.rounds} alternating rounds ({self.clock} clock) before training: MoE "
                f"{self.moe_step_s * 1e3:.3g} ms a step, {s['moe']:,} steps; dense {self.dense_step_s * 1e3:.3g} "
                f"ms, {s['dense']:,} steps. MoE's tokens/s over dense's: {self.ratio:.3f} "
                f"[{self.low:.3f}, {self.high:.3f}].")


def calibrate(moe_cfg: M.Config, tc: TR.TrainConfig, corpus: Corpus, rounds: int = ROUNDS) -> Calibration:
    """Time MoE's and dense's training steps side by side as train() would run them (its kernels,
    its BLAS threads, its clock, its allocator setting) and return the rates for tc.minutes."""
    from threadpoolctl import threadpool_limits

    if tc.minutes is None:
        raise ValueError("a calibration turns a time budget into steps: give minutes, not max_steps")
    budgeted = replace(tc, max_steps=None)  # a time budget, as train() sees it (it picks Numba's kernels)
    clock = TR.CLOCKS[tc.clock]
    TR.keep_freed_memory()
    numba_before = M.numba_kernels() is not None
    M.use_numba(TR.wants_numba(budgeted))
    try:
        runners = {name: Runner(cfg, budgeted, corpus, seed=tc.seed, clock=clock)
                   for name, cfg in (("moe", moe_cfg), ("dense", replace(moe_cfg, dense=True)))}
        for r in runners.values():  # compiled and every BLAS loaded before the limit, as in train():
            TR.warm_up(r.params, r.cfg)  # a BLAS first loaded inside it keeps all its threads
        with threadpool_limits(limits=tc.threads, user_api="blas"):
            t = interleaved(runners, rounds)
    finally:
        M.use_numba(numba_before)
    ratio = float(np.median(stats.paired_ratios(t["dense"], t["moe"])))  # = MoE tokens/s over dense's
    low, high = stats.percentile_interval(stats.bootstrap_paired_ratios(t["dense"], t["moe"],
                                                                        np.random.default_rng(0)))
    if not math.isfinite(ratio):
        raise RuntimeError("calibration measured a step of no time: is the clock working?")
    return Calibration(float(np.median(t["moe"])), float(np.median(t["dense"])), ratio, low, high, rounds, tc.clock,
                       tc.minutes)
