"""The grade loop's targets (issue 13): grade each problem's timing reference against itself, N
times with the default plan and N times with --quick, and say whether the targets hold.

    python benchmarks/grade_loop.py [--runs 5] [--problems coo-to-csr spmv spgemm moe-router] [--cold]

Each grade is a fresh `python -m harness.cli grade SLUG REFERENCE --json --no-record`, timed on
this side of the subprocess (a person's wait: interpreter start, correctness, JIT compilation
and timing). The file is unchanged between grades, so after the first they reuse its compiled
Numba code (harness/jitcache.py's store), as a re-grade does; `--cold` turns that off and
every grade compiles, as the first grade after an edit does. Targets: the default grade within
15 s with a score interval no wider than ±5%; --quick within 3 s, its score within ±10% of the
default's (the median of the default runs) and its interval within ±10%; every self-vs-self
score within 0.85-1.18 (the stability bar). Prints a markdown table, with the timing phase and
the first call (JIT compilation included) beside the wall, so what the timing loop costs shows
apart. Run it on a quiet machine: a shared one gives indicative figures only.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBLEMS = ("coo-to-csr", "spmv", "spgemm", "moe-router")
STABLE = (0.85, 1.18)  # self-vs-self scores outside this are a grader that cannot be trusted
TARGETS = {  # plan: (most wall seconds, widest interval as a relative half-width)
    "full": (15.0, 0.05),
    "quick": (3.0, 0.10),
}
QUICK_AGREES = 0.10  # a quick score within ±10% of the default's


@dataclass(frozen=True)
class Grade:
    """One grade as the benchmark saw it."""

    wall_s: float
    score: float | None
    interval: tuple[float, float] | None
    verdict: str
    phase_s: float | None = None  # the timing phase on the grader's clock (timer_check.phase_wall_s)
    first_call_s: float | None = None  # the submission's first call, JIT compilation included

    @property
    def half_width(self) -> float | None:
        """The interval's reach from the score, relative to it (0.03: ±3%)."""
        if self.score is None or self.interval is None or self.score <= 0:
            return None
        lo, hi = self.interval
        return max(self.score - lo, hi - self.score) / self.score


def grade_once(slug: str, plan: str, cold: bool = False) -> Grade:
    """One grade of the problem's timing reference against itself, in a fresh interpreter;
    `cold`: without the compiled code kept from an earlier grade of the file (as after an edit)."""
    sys.path.insert(0, str(ROOT))
    from harness import jitcache, problems  # local: the benchmark's own start stays light

    p = problems.get(slug)
    reference = p.reference_path(p.timing_reference)
    cmd = [sys.executable, "-m", "harness.cli", "grade", slug, str(reference), "--json", "--no-record"]
    if plan == "quick":
        cmd.append("--quick")
    env = {**os.environ, "PYTHONPATH": str(ROOT), **({jitcache.STORE_ENV: "off"} if cold else {})}
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    rec = json.loads(done.stdout)
    iv = rec.get("score_interval")
    return Grade(wall, rec.get("score"), (float(iv[0]), float(iv[1])) if iv else None, rec["verdict"],
                 (rec.get("timer_check") or {}).get("phase_wall_s"), (rec.get("first_call_s") or {}).get("submission"))


def _median(xs: list[float]) -> float:
    s = sorted(xs)
    n = len(s)
    return s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])


def _fmt(x: float | None, spec: str) -> str:
    return "-" if x is None else format(x, spec)


def table(results: dict[str, dict[str, list[Grade]]]) -> str:
    """The markdown table: one row per problem and plan, then whether each target holds."""
    head = ("| problem | plan | runs | wall median s | wall max s | score median | scores min-max "
            "| interval ± median | interval ± max | timing phase s | first call s | targets |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    verdicts = []
    for slug, plans in results.items():
        full_scores = [g.score for g in plans.get("full", []) if g.score is not None]
        full_median = _median(full_scores) if full_scores else None
        for plan, grades in plans.items():
            walls = [g.wall_s for g in grades]
            scores = [g.score for g in grades if g.score is not None]
            widths = [g.half_width for g in grades if g.half_width is not None]
            phases = [g.phase_s for g in grades if g.phase_s is not None]
            firsts = [g.first_call_s for g in grades if g.first_call_s is not None]
            max_wall, max_width = TARGETS[plan]
            checks = {
                f"wall ≤ {max_wall:g} s": max(walls) <= max_wall,
                f"interval ≤ ±{100 * max_width:g}%": len(widths) == len(grades) and max(widths) <= max_width,
                f"stable {STABLE[0]}-{STABLE[1]}": len(scores) == len(grades)
                and all(STABLE[0] <= s <= STABLE[1] for s in scores),
            }
            if plan == "quick" and full_median:
                checks[f"within ±{100 * QUICK_AGREES:g}% of default"] = all(
                    abs(s / full_median - 1) <= QUICK_AGREES for s in scores) and len(scores) == len(grades)
            failed = [k for k, ok in checks.items() if not ok]
            verdicts.append(not failed)
            lines.append(
                f"| {slug} | {plan} | {len(grades)} | {_median(walls):.1f} | {max(walls):.1f} "
                f"| {_fmt(_median(scores) if scores else None, '.3f')} "
                f"| {_fmt(min(scores) if scores else None, '.3f')}-{_fmt(max(scores) if scores else None, '.3f')} "
                f"| {_fmt(_median(widths) * 100 if widths else None, '.1f')}% "
                f"| {_fmt(max(widths) * 100 if widths else None, '.1f')}% "
                f"| {_fmt(_median(phases) if phases else None, '.1f')} "
                f"| {_fmt(_median(firsts) if firsts else None, '.1f')} "
                f"| {'all hold' if not failed else 'missed: ' + ', '.join(failed)} |")
    lines.append("")
    lines.append(f"{sum(verdicts)} of {len(verdicts)} problem/plan rows meet every target")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="grades per problem and plan (default 5)")
    parser.add_argument("--problems", nargs="+", default=list(PROBLEMS), help="slugs (default: the four of issue 13)")
    parser.add_argument("--plans", nargs="+", default=["full", "quick"], choices=sorted(TARGETS),
                        help="plans to run (default: full quick)")
    parser.add_argument("--cold", action="store_true", help="every grade compiles afresh, as the first grade "
                        "after an edit does (default: a re-grade reuses the file's compiled code)")
    args = parser.parse_args(argv)
    results: dict[str, dict[str, list[Grade]]] = {}
    for slug in args.problems:
        results[slug] = {}
        for plan in args.plans:
            grades = []
            for i in range(args.runs):
                g = grade_once(slug, plan, args.cold)
                if g.verdict != "AC":
                    raise RuntimeError(f"{slug} reference graded {g.verdict} against itself")
                grades.append(g)
                print(f"{slug} {plan} run {i + 1}: {g.wall_s:.1f} s, score {_fmt(g.score, '.3f')} "
                      f"±{_fmt(g.half_width * 100 if g.half_width is not None else None, '.1f')}%",
                      file=sys.stderr, flush=True)
            results[slug][plan] = grades
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
