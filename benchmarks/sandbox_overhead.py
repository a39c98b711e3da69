"""What the sandbox costs: seconds per child start, time per timed call, and a whole grade.

Per child: spawning a child to its 'ready' (interpreter, numpy, the submission loaded) at each
isolation level: bubblewrap's private view, harness/isolation.py's namespaces, the audit hook
alone. Per timed call: a trivial entry function (it returns a 1-element array), called many
times; the grader's clock from its 'go' to the reply line (what is ranked), the child's own
clock, and their gap (the round trip the grader's clock adds to every timed command, which
batching amortises: harness/timing.py). Last, the timing reference graded against itself (a
score of 1.0 is a sandbox that favours neither side).

    python -m benchmarks.sandbox_overhead              # about a minute; run it on a quiet machine
    python -m benchmarks.sandbox_overhead --calls 2000 --starts 10
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from harness import grader, problems
from harness.sandbox import Child
from harness.spec import Limits

TRIVIAL = "import numpy as np\n\n\ndef f(x):\n    return np.zeros(1)\n"
LEVELS = ("bubblewrap", "namespaces", "audit-hook only")
PLAN = grader.TimingPlan("overhead", min_reps=10, max_reps=40, budget_s=0.2, max_sizes=3)


def starts(path: Path, level: str, guard: bool, repeats: int) -> float:
    """Median seconds from spawning a child to its 'ready'."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        with Child(path, "f", 1, Limits(), guard=guard, level=level):
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def calls(path: Path, level: str, guard: bool, n: int) -> tuple[float, float, float]:
    """Medians over `n` calls: the grader's clock, the child's clock, their gap (seconds)."""
    walls, own = [], []
    x = np.zeros(10)
    with Child(path, "f", 1, Limits(), guard=guard, level=level) as child:
        child.run([(x,)])
        for _ in range(n):
            reply, _, seen = child.run([(x,)])
            walls.append(seen.wall_s)
            own.append(reply["seconds"])
    return statistics.median(walls), statistics.median(own), statistics.median(w - s for w, s in zip(walls, own))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--problem", default="coo-to-csr")
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--calls", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "trivial.py"
        path.write_text(TRIVIAL)
        path.chmod(0o644)
        print(f"child start-up to 'ready', median of {args.starts}; per timed call, median of {args.calls}")
        for level in LEVELS:
            for guard in (True, False):
                s = starts(path, level, guard, args.starts)
                wall, own, gap = calls(path, level, guard, args.calls)
                who = "submission" if guard else "reference "
                print(f"  {level:16s} {who}  start {s:6.3f} s   call: grader {wall * 1e6:7.1f} us  "
                      f"child {own * 1e6:6.1f} us  gap {gap * 1e6:6.1f} us")
    p = problems.get(args.problem)
    ref = p.reference_path(p.timing_reference)
    print(f"{p.slug}: timing reference against itself (both sides in their own sandbox)")
    grader.PLANS[PLAN.name] = PLAN
    rec = grader.grade(p, ref, plan=PLAN.name)
    for t in rec["timings"]:
        print(f"  {p.size_unit}={t['size']:>9,}  reps {t['reps']:3d}  batch {t.get('batch', 1):3d}  "
              f"sub {t['sub_median_s'] * 1e3:8.3f} ms  ref {t['ref_median_s'] * 1e3:8.3f} ms  ratio {t['speedup']:.3f}")
    print(f"  score {rec['score']:.3f}; flags {rec['flags'] or 'none'}; sandbox {rec['sandbox']['level']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
