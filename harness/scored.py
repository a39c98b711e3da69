"""Scored problems (harness.spec.Scoring): the problem's hook drives the sandboxed submission
through a Driver and measures a score itself (e.g. held-out bits/char of a trained model),
instead of the grader judging answers against an oracle and timing them.

The Driver is the hook's only way into the sandbox; every call it makes is judged like a
correctness call (forbidden operations, crashes, time-outs, memory) and listed in the
record's cases.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from harness.judge import call, check_returned, check_violations
from harness.schema import CaseOutcome
from harness.sandbox import Child
from harness.spec import Problem


class Driver:
    """harness.spec.Driver for scoring hooks: calls into the sandboxed submission, turning a
    crash, a time-out or a forbidden operation into the grade's verdict."""

    def __init__(self, child: Child, entry: str, cases: list[CaseOutcome]):
        self.child, self.entry, self.cases = child, entry, cases

    def call(self, *args: Any, keep: str | None = None, on: str | None = None, method: str | None = None,
             wall_s: float | None = None, label: str = "") -> Any:
        label = label or (f"{on}.{method}" if on else self.entry)
        limits = self.child.limits
        if wall_s is not None:
            self.child.limits = replace(limits, wall_s=wall_s)
            self.child.budget = True  # a budget is exact, first call or not
        try:
            reply, got, wall = call(self.child, args, label, keep=keep, on=on, method=method)
        finally:
            self.child.limits = limits
            self.child.budget = False
        check_violations(reply, label)
        check_returned(reply, label, label, limits.mem_mb, memory_in="in")
        self.cases.append(CaseOutcome(label, 0.0, "pass", seconds=reply.get("seconds"), wall_s=round(wall, 3)))
        return got


def run_hook(problem: Problem, child: Child, cases: list[CaseOutcome], *, secret: str, plan: str) -> dict:
    """Let the problem's hook drive `child`; returns {"score", "metrics"?} as the hook measured
    them. Each call it made is appended to `cases`, so a hook stopped by a verdict keeps them."""
    return problem.scoring.run(Driver(child, problem.entry, cases), secret, plan)
