"""How stable is a score? Grade the timing reference against itself several times in a row.

A perfect grader would say 1.0 every time; the spread of these scores is the noise floor
of a grade on this machine.

    python benchmarks/stability.py coo-to-csr [--runs 5] [--threads 1]
"""
from __future__ import annotations

import argparse
import sys

from harness import problems
from harness.grader import grade
from harness.stats import geomean


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("problem")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    p = problems.get(args.problem)
    scores = []
    for i in range(args.runs):
        rec = grade(p, p.reference_path(p.timing_reference), threads=args.threads, plan="full")
        scores.append(rec["score"])
        per_size = "  ".join(f"{t['size']:,}: {t['speedup']:.3f}x ({t['reps']} reps)" for t in rec["timings"])
        iv = rec.get("score_interval")
        within = f" (95% interval {iv[0]:.3f}-{iv[1]:.3f})" if iv else ""
        print(f"run {i + 1}: score {rec['score']:.3f}{within}   [{per_size}]   grade took {rec['grade_seconds']:.1f} s",
              flush=True)
    print(f"min {min(scores):.3f}  max {max(scores):.3f}  geomean {geomean(scores):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
