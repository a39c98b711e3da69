"""Scored problems (harness.spec.Scoring): the problem's hook drives the sandboxed submission
through a Driver and measures a score itself (e.g. held-out bits/char of a trained model),
instead of the grader judging answers against an oracle and timing them.

The Driver is the hook's only way into the sandbox; every call it makes is judged like a
correctness call (forbidden operations, crashes, time-outs, memory) and listed in the
record's cases. Two measures are the grader's own, out of the submission's reach: the wall
clock around the calls (a `budget` shared by every call inside it) and the child's peak
resident memory, read from /proc (`peak_memory`).
"""
from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from harness.judge import Verdict, call, check_returned, check_violations
from harness.schema import CaseOutcome
from harness.sandbox import Child
from harness.spec import Problem

MIN_CALL_S = 0.05  # a call inside a budget that has less than this left is not started


@dataclass
class Budget:
    """One wall-clock allowance shared by every call made inside `with driver.budget(...)`, on
    the grader's clock from the block's start: the calls, and anything the submission does in
    the background between them, all count."""

    seconds: float
    what: str
    started: float = field(default_factory=time.perf_counter)
    used_s: float | None = None  # set when the block ends
    spent: dict[str, float] = field(default_factory=dict)  # wall seconds per call label

    def left(self) -> float:
        return self.seconds - (time.perf_counter() - self.started)

    def exhausted(self, label: str) -> Verdict:
        used = time.perf_counter() - self.started
        calls = ", ".join(f"{k} {v:.2f} s" for k, v in self.spent.items()) or "none"
        return Verdict("TLE", f"the {self.what} of {self.seconds:g} s ran out in {label}, after {used:.2f} s on "
                              f"the grader's clock (calls finished before: {calls})", case=label)


class Driver:
    """harness.spec.Driver for scoring hooks: calls into the sandboxed submission, turning a
    crash, a time-out or a forbidden operation into the grade's verdict."""

    def __init__(self, child: Child, entry: str, cases: list[CaseOutcome]):
        self.child, self.entry, self.cases = child, entry, cases
        self._budget: Budget | None = None
        self._last: tuple[str, int] = ("", 0)  # the last case's label and how many calls it holds

    def call(self, *args: Any, keep: str | None = None, on: str | None = None, method: str | None = None,
             wall_s: float | None = None, label: str = "") -> Any:
        label = label or (f"{on}.{method}" if on else self.entry)
        limits = self.child.limits
        budget, limit = self._budget, wall_s
        if budget is not None:  # inside a budget the call may run as long as the budget has left, no longer
            left = budget.left()
            if left < MIN_CALL_S:
                raise budget.exhausted(label)
            limit = left if limit is None else min(limit, left)
        if limit is not None:
            self.child.limits = replace(limits, wall_s=limit)
            self.child.budget = True  # a budget is exact, first call or not
        try:
            reply, got, wall = call(self.child, args, label, keep=keep, on=on, method=method)
        except Verdict as v:
            if budget is not None and v.verdict == "TLE" and budget.left() < MIN_CALL_S:
                raise budget.exhausted(label) from None
            raise
        finally:
            self.child.limits = limits
            self.child.budget = False
        if budget is not None:
            budget.spent[label] = budget.spent.get(label, 0.0) + wall
        check_violations(reply, label)
        check_returned(reply, label, label, limits.mem_mb, memory_in="in")
        self._note(label, reply.get("seconds"), wall)
        return got

    def _note(self, label: str, seconds: float | None, wall: float) -> None:
        """One case per call; calls with the same label one after another (a stream of steps)
        are one case, "label ×n", their times added, so a record stays small however many
        calls a hook makes."""
        if self.cases and label == self._last[0]:
            n = self._last[1] + 1
            last = self.cases[-1]
            self.cases[-1] = replace(last, name=f"{label} ×{n}",
                                     seconds=round((last.seconds or 0.0) + (seconds or 0.0), 6),
                                     wall_s=round((last.wall_s or 0.0) + wall, 3))
        else:
            n = 1
            self.cases.append(CaseOutcome(label, 0.0, "pass", seconds=seconds, wall_s=round(wall, 3)))
        self._last = (label, n)

    @contextlib.contextmanager
    def budget(self, seconds: float, what: str) -> Iterator[Budget]:
        """Every call inside the block shares one wall-clock allowance of `seconds`, measured by
        the grader from the block's start to its end, gaps between calls included; a call is
        stopped when the allowance runs out, and the grade is TLE naming the budget."""
        if self._budget is not None:
            raise RuntimeError("budgets do not nest")
        if not (isinstance(seconds, (int, float)) and math.isfinite(seconds) and seconds > 0):
            raise ValueError(f"a budget needs a positive number of seconds, got {seconds!r}")
        self._budget = budget = Budget(float(seconds), what)
        try:
            yield budget
        finally:
            self._budget = None
            budget.used_s = round(time.perf_counter() - budget.started, 3)
        if budget.used_s > budget.seconds:  # the last call ended in time, but the block did not
            raise budget.exhausted("the gap after the last call")

    def peak_memory(self) -> int | None:
        """The most resident memory the child's processes have held so far, in bytes (the sum of
        their peaks, VmHWM), read by the grader from /proc; None where /proc cannot tell."""
        proc = getattr(self.child, "proc", None)
        return peak_resident_bytes(proc.pid) if proc is not None else None


def peak_resident_bytes(pid: int) -> int | None:
    """Sum of VmHWM over `pid` and every descendant (the sandbox's supervisor, init and worker)."""
    total, seen, todo = 0, 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1]) * 1024
                        seen += 1
            for tid in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{tid}/children") as fh:
                    todo += [int(k) for k in fh.read().split()]
        except (OSError, ValueError):
            continue
    return total if seen else None


def run_hook(problem: Problem, child: Child, cases: list[CaseOutcome], *, secret: str, plan: str) -> dict:
    """Let the problem's hook drive `child`; returns {"score", "metrics"?} as the hook measured
    them. Each call it made is appended to `cases`, so a hook stopped by a verdict keeps them."""
    return problem.scoring.run(Driver(child, problem.entry, cases), secret, plan)
