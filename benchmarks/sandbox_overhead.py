"""What the sandbox costs: seconds per grade, and time per timed call (should be none).

Per grade: the numba reference graded with correctness only, as a submission (child in
its own namespaces, audit hook, privileges dropped) and as a baseline (same limits, no
isolation, no hook); the difference is the sandbox's start-up and per-call cost.

Per timed call: the timing reference graded against itself. The submission side runs
sandboxed, the reference side not, calls alternating on the same inputs; a score of
1.0 and equal medians mean the sandbox adds nothing inside the timed region.

    python -m benchmarks.sandbox_overhead            # about a minute; figures are rough
"""
from __future__ import annotations

import argparse
import statistics
import time

from harness import grader, problems
from harness.sandbox import Child

PLAN = grader.TimingPlan("overhead", min_reps=10, max_reps=40, budget_s=0.2, max_sizes=3)


def child_start(problem, path, guard: bool, repeats: int) -> float:
    """Median seconds from spawning a child to its 'ready' (submission loaded)."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        with Child(path, problem.entry, 1, problem.limits, guard=guard, forbidden=("torch",)):
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--problem", default="coo-to-csr")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    p = problems.get(args.problem)
    ref = p.reference_path(p.timing_reference)

    print(f"{p.slug}: child start-up to 'ready' (median of {args.repeats})")
    sandboxed, plain = child_start(p, ref, True, args.repeats), child_start(p, ref, False, args.repeats)
    print(f"  sandboxed {sandboxed:.3f} s   plain {plain:.3f} s   overhead {sandboxed - plain:+.3f} s")

    print(f"{p.slug}: whole grade, correctness only (median of {args.repeats})")
    sub = statistics.median(grader.grade(p, ref, plan="off")["grade_seconds"] for _ in range(args.repeats))
    base = statistics.median(grader.grade(p, ref, plan="off", baseline=True)["grade_seconds"]
                             for _ in range(args.repeats))
    print(f"  sandboxed {sub:.3f} s   plain {base:.3f} s   overhead {sub - base:+.3f} s")

    print(f"{p.slug}: timing reference against itself, sandboxed vs plain, alternating calls")
    grader.PLANS[PLAN.name] = PLAN
    rec = grader.grade(p, ref, plan=PLAN.name)
    for t in rec["timings"]:
        print(f"  {p.size_unit}={t['size']:>9,}  reps {t['reps']:3d}  sandboxed {t['sub_median_s'] * 1e3:8.3f} ms  "
              f"plain {t['ref_median_s'] * 1e3:8.3f} ms  ratio {t['speedup']:.3f}  "
              f"around the call: {t['sub_overhead_s'] * 1e3:.2f} vs {t['ref_overhead_s'] * 1e3:.2f} ms")
    print(f"  score (geomean of ratios) {rec['score']:.3f}; flags {rec['flags'] or 'none'}")
    print(f"  whole timing phase: {rec['timer_check']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
