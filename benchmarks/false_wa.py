"""No false WA: every reference and baseline through the grader's correctness phase
under many hidden seeds (each seed changes every random and seeded edge case).

A WA here is a bug in a checker, a generator or a reference, never in a submission.
One child per reference serves all seeds, so the run measures the checks, not
process start-up.

    python -m benchmarks.false_wa                 # 200 seeds, every problem
    python -m benchmarks.false_wa --seeds 20 coo-to-csr
"""
from __future__ import annotations

import argparse
import time

from harness import ROOT, problems
from harness.grader import Grader, Verdict
from harness.judge import check_cases, correctness_cases


def run(seeds: int = 200, slugs: list[str] | None = None, echo=print) -> list[str]:
    """Failures as readable lines (empty when every seed of every reference passed)."""
    failures: list[str] = []
    for p in problems.all_problems():
        if (slugs and p.slug not in slugs) or p.scoring is not None:  # scored problems have no expected answers
            continue
        solutions = [(f"reference:{n}", path, False) for n, path in p.references.items()]
        solutions += [(f"baseline:{n}", path, True) for n, path in p.baselines.items()
                      if problems.runnable(path)]
        for name, path, baseline in solutions:
            started, cases = time.perf_counter(), 0
            g = Grader(p, ROOT / path, plan="off", baseline=baseline)
            arity = len(g.correctness_cases()[0][1])
            with g.child(ROOT / path, arity=arity, guard=not baseline) as child:
                for i in range(seeds):
                    batch = correctness_cases(p, f"false-wa-{i}")
                    try:
                        check_cases(p, g.oracle, child, batch)
                    except Verdict as v:
                        failures.append(f"{p.slug} {name} seed {i}: {v.verdict} {v.reason}")
                    cases += len(batch)
            echo(f"{p.slug:16s} {name:18s} {seeds} seeds, {cases} cases, "
                 f"{time.perf_counter() - started:6.1f} s")
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("slugs", nargs="*", help="problems (default: all)")
    parser.add_argument("--seeds", type=int, default=200)
    args = parser.parse_args()
    failures = run(args.seeds, args.slugs)
    for line in failures:
        print("FALSE", line)
    print(f"{len(failures)} false verdicts")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
