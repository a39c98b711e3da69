"""Where moe-lm-speedrun's reference spends its budgets: why it has no Numba version.

For each grading plan, in this process (no sandbox): the plan's training text and streams, the
reference's `train` (counting its n-gram tables) timed against the budget before scoring, every
`step` timed against the steps' allowance, and the bits/char it scores. When both take a small
fraction of their budgets, a faster (compiled) reference would score the same: its score is set
by its context length, which the size of a dense count table caps, not by time.

    python benchmarks/speedrun_reference.py
"""
from __future__ import annotations

import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from harness.problems import get, load_module  # noqa: E402

SLUG = "moe-lm-speedrun"


def measure(plan: str) -> dict:
    problem = get(SLUG)
    spec = load_module(problem.folder / "spec.py")
    ref = load_module(problem.reference_path("ngram"))
    seconds, n_train, n_streams, length = spec.PLANS[plan]
    data = spec.corpus("speedrun-reference-benchmark", n_train, n_streams, length)
    t0 = time.perf_counter()
    model = ref.train(data.train, seconds, 0)
    model.describe()
    model.start(n_streams)
    t1 = time.perf_counter()
    nll = np.empty((n_streams, length - 1))
    rows = np.arange(n_streams)
    for t in range(length - 1):
        lp = model.step(np.ascontiguousarray(data.streams[:, t]))
        nll[:, t] = -lp[rows, data.streams[:, t + 1]]
    t2 = time.perf_counter()
    return {"plan": plan, "V": model.V, "order": model.order, "entries": sum(c.size for c in model.counts),
            "before_s": t1 - t0, "budget_s": spec.budget(seconds), "steps_s": t2 - t1,
            "allowance_s": spec.SCORING_S[plan], "positions": n_streams * (length - 1),
            "bpc": float(nll.mean() / math.log(2))}


def main() -> int:
    print("| plan | order (V) | table entries | train + describe + start | steps | bits/char |")
    print("|---|---|--:|--:|--:|--:|")
    for plan in ("full", "quick"):
        m = measure(plan)
        print(f"| {m['plan']} | {m['order']} ({m['V']}) | {m['entries']:,} | {m['before_s']:.2f} s of "
              f"{m['budget_s']:.0f} s | {m['steps_s']:.2f} s of {m['allowance_s']:.0f} s "
              f"({m['positions']:,} positions) | {m['bpc']:.4f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
