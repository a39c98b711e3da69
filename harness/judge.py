"""Judging: is what the submission's child did a right answer, and if not, which verdict?

Everything that turns a reply of the child into a verdict lives here, so that a verdict has
one cause to look for: the static scan of the file (compile errors, forbidden imports), a
child that fails to start or load, a call that dies (time, memory, a crash), a forbidden
operation the audit hook saw, and a returned value judged against the oracle's answer (the
status, the contract errors the problem allows, aliasing, the input digest, then the
problem's own checker). Correctness is the cases of a grade run through that judgement,
smallest edge case first. Every case runs (a grade shows every case's outcome, because the first
failure is often a surface rule hiding the real bug); the grade's verdict is the first failure's.
A child that crashes is restarted for the rest; one that times out or does something forbidden
is not, and the rest are recorded as not run, with why.
"""
from __future__ import annotations

import ast
import hashlib
import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from harness.schema import CaseOutcome
from harness.sandbox import Child, ChildDied
from harness.seeds import case_seed
from harness.spec import Args, Problem, Rejected

VERDICTS = ("AC", "WA", "RE", "TLE", "MLE", "CE")
NOT_RUN = "not run"  # a case's status when the cases before it ended the child's run
MAX_RESTARTS = 3  # fresh children for the rest of the cases after crashes, per grade

Progress = Callable[[str, int, int], None]
Call = tuple[dict, Any, float]  # what Child.call returns: (reply, result or None, wall seconds)


class Expected:
    """The oracle's answer for one case: a value, or a contract error the call must raise."""

    def __init__(self, value: Any = None, error: BaseException | None = None):
        self.value, self.error = value, error


class Verdict(Exception):
    """Raised inside grading to end a call, a case or a grade with its verdict."""

    def __init__(self, verdict: str, reason: str, **detail: Any):
        super().__init__(reason)
        self.verdict, self.reason, self.detail = verdict, reason, detail


# -- before anything runs ------------------------------------------------------------------
def sha256_file(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def static_scan(path: Path, forbidden: tuple[str, ...]) -> None:
    """Compile errors and forbidden imports found without running the file."""
    source = Path(path).read_text(encoding="utf-8", errors="replace")
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as exc:
        raise Verdict("CE", f"syntax error at line {exc.lineno}: {exc.msg}", line=exc.lineno) from None
    banned = set(forbidden)
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            func = node.func
            fname = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if fname in ("import_module", "__import__"):
                names = [node.args[0].value]
        for name in names:
            for ban in banned:
                if name == ban or name.startswith(ban + "."):
                    raise Verdict("CE", f"forbidden import {name!r} at line {node.lineno} "
                                        f"(this problem does not allow {ban})", line=node.lineno)


# -- the child's replies -------------------------------------------------------------------
class Loaded:
    """`with Loaded(child) as c:` starts the child and turns a child that fails to start or
    load into the right verdict; the child is closed on the way out either way."""

    def __init__(self, child: Child):
        self.child = child

    def spawn(self) -> Loaded:
        """Start the child now, to be waited for by `with`: children spawned one after the other
        load at the same time."""
        try:
            self.child.spawn()
        except BaseException:
            self.child.close()
            raise
        return self

    def __enter__(self) -> Child:
        try:
            self.child.__enter__()
        except ChildDied as death:
            self.child.close()
            verdict = "TLE" if death.reason in ("timeout", "cpu") else "RE"
            raise Verdict(verdict, f"while loading: {death.detail}", output=death.output) from None
        except BaseException:  # Ctrl-C while it starts: no child left behind
            self.child.close()
            raise
        ready = self.child.ready
        failed = ready.get("status") == "load_error"
        try:  # a child that failed to load exits at once, and its exit races the grader's count of
            # its processes (a worker seen going counted as started): the load error is the reason
            check_violations({**ready, "processes": 0} if failed else ready, None)
        except Verdict:
            self.child.close()
            raise
        if failed:
            self.child.close()
            verdict = "MLE" if "MemoryError" in ready.get("mro", []) else "CE"
            raise Verdict(verdict, f"{ready['type']}: {ready['message']}", traceback=ready.get("traceback"))
        return self.child

    def __exit__(self, *exc: object) -> None:
        self.child.close()


def call(child: Child, args: Args, case: str, **how: Any) -> Call:
    """One call of the child; a child that dies in it is the case's TLE, MLE or RE."""
    try:
        return child.call(args, **how)
    except ChildDied as death:
        raise _died(death, case) from None


def run_batch(child: Child, batch: list[Args], case: str, staged: Path | None = None) -> tuple[dict, list | None, Any]:
    """One timed command of the child (`batch` calls back to back, `staged`: already written by
    sandbox.Staging); a death is the case's verdict."""
    try:
        return child.run(batch, staged=staged)
    except ChildDied as death:
        raise _died(death, case) from None


def _died(death: ChildDied, case: str) -> Verdict:
    verdict = {"timeout": "TLE", "cpu": "TLE", "memory": "MLE"}.get(death.reason, "RE")
    return Verdict(verdict, f"{death.detail} (case {case!r})", case=case, output=death.output)


# numpy's and numba's words for a write to a read-only array: the inputs are mapped read-only
READ_ONLY = ("assignment destination is read-only", "output array is read-only", "array is read-only",
             "WRITEABLE flag", "readonly array")


def wrote_to_inputs(reply: dict) -> bool:
    """A call that failed because it wrote to its (read-only) inputs."""
    return reply["status"] == "raised" and any(p in reply.get("message", "") for p in READ_ONLY)


def check_violations(reply: dict, case: str | None) -> None:
    """A forbidden operation the audit hook refused, or a process the submission
    started, is a CE naming what was attempted (even if the submission caught the error)."""
    where = f" in case {case!r}" if case else " while loading"
    for v in reply.get("violations", []):
        if v.startswith("import "):
            name, _, rule = v[len("import "):].partition(" (forbidden: ")
            raise Verdict("CE", f"forbidden import {name!r} at run time,{where} (this problem does not allow "
                                f"{rule.rstrip(')') or name})", case=case)
        raise Verdict("CE", f"forbidden operation{where}: {v}", case=case)
    if reply.get("processes"):
        raise Verdict("CE", f"forbidden operation{where}: started {reply['processes']} process(es)", case=case)


def check_returned(reply: dict, case: str, what: str, mem_mb: int, *, memory_in: str = "on") -> None:
    """A call that did not return a value (MemoryError, an exception, unreadable output) is
    MLE, RE or WA. `what` names the call in the reason ("case 'x'" or a hook's label)."""
    if reply["status"] == "memory":
        raise Verdict("MLE", f"MemoryError {memory_in} {what} (limit {mem_mb} MiB)", case=case)
    if reply["status"] == "raised":
        raise Verdict("RE", f"{reply['type']}: {reply['message']} ({what})", case=case,
                      traceback=reply.get("traceback", ""))
    if reply["status"] == "bad_output":
        raise Verdict("WA", f"{what}: {reply['message']}", case=case)


def judge_reply(problem: Problem, case: str, args: Args, expected: Expected, reply: dict, got: Any, *,
                digest: str | None, mem_mb: int) -> None:
    """Raise Verdict unless this reply is a right answer to `args`."""
    check_violations(reply, case)
    what = f"case {case!r}"
    if wrote_to_inputs(reply):
        raise Verdict("WA", f"{what}: the call modified its input arrays (they are read-only: "
                            f"{reply['type']}: {reply['message'][:200]})", case=case)
    if reply["status"] == "raised" and expected.error is not None:
        if type(expected.error).__name__ in reply["mro"]:
            return
        where = raised_at(reply.get("traceback", ""))
        raise Verdict("WA", f"{what}: expected {type(expected.error).__name__} "
                            f"({expected.error}), got {reply['type']}: {reply['message']}"
                            + (f" (raised at {where})" if where else ""), case=case,
                      traceback=reply.get("traceback") or None)
    if reply["status"] == "bad_output" and problem.explain is not None:
        hint = problem.explain(reply.get("message", ""))
        if hint:
            raise Verdict("WA", f"{what}: {reply['message']}; {hint}", case=case)
    check_returned(reply, case, what, mem_mb)
    if expected.error is not None:
        raise Verdict("WA", f"{what}: expected {type(expected.error).__name__} "
                            f"({expected.error}), but the call returned normally", case=case)
    if reply.get("aliased"):
        raise Verdict("WA", f"{what}: the result shares memory with an input; return new arrays", case=case)
    if digest is not None and reply.get("input_digest") != digest:
        raise Verdict("WA", f"{what}: the call modified its input arrays", case=case)
    message = problem.check(args, expected.value, got)
    if message:
        first, _, rest = message.partition("\n")
        raise Verdict("WA", f"{what}: {first}", case=case, diff=rest or None)


_FRAME = re.compile(r'^  File "(?P<file>[^"]*)", line (?P<line>\d+), in (?P<fn>.*)$')
_LIBRARY = ("site-packages", "dist-packages", "/lib/python", "harness/", "<frozen")


def raised_at(tb: str) -> str | None:
    """Where an exception was raised, from the child's traceback text: the innermost frame
    outside libraries and the harness, as "file, line N, in fn: source" (None without one).
    The text is the submission's, so it is only parsed, never trusted to be well formed."""
    frames = []
    lines = tb.splitlines()
    for i, line in enumerate(lines):
        m = _FRAME.match(line)
        if m:
            src = lines[i + 1].strip() if i + 1 < len(lines) and not _FRAME.match(lines[i + 1]) else ""
            frames.append((m["file"], m["line"], m["fn"], src))
    if not frames:
        return None
    own = [f for f in frames if not any(k in f[0] for k in _LIBRARY)]
    file, line, fn, src = (own or frames)[-1]
    return f"{Path(file).name}, line {line}, in {fn}" + (f": {src[:160]}" if src else "")


# -- correctness -----------------------------------------------------------------------------
def correctness_cases(problem: Problem, secret: str) -> list[tuple[str, Args]]:
    """The edge cases, smallest first (the first failure is the easiest to read), then the
    seeded random cases of growing size; the secret changes every seed."""
    def rng(label: str) -> np.random.Generator:
        return np.random.default_rng(case_seed(problem.slug, label, secret))

    edge = []
    for case in problem.edge_cases:
        args = case.make(rng(case.name))
        edge.append((problem.size_of(args), case.name, args))
    edge.sort(key=lambda t: t[0])
    randoms = [(f"random n={n}", problem.make_random(rng(f"random/{n}"), n)) for n in problem.random_sizes]
    return [(name, args) for _, name, args in edge] + randoms


def replay_cases(problem: Problem, oracle: Callable[..., Any], randoms: int, rng: np.random.Generator) -> list:
    """Correctness cases for the timing child: every edge case and `randoms` random-size ones,
    each built afresh from `rng` (a fixed case comes out the same; a table of the public cases
    does not help), with the oracle's answer: (name, args, Expected)."""
    makers = [(c.name, c.make) for c in problem.edge_cases]
    sizes = list(problem.random_sizes)
    for i in rng.choice(len(sizes), size=min(randoms, len(sizes)), replace=False) if sizes and randoms else []:
        n = sizes[int(i)]
        makers.append((f"random n={n}", lambda r, n=n: problem.make_random(r, n)))
    out = []
    for name, make in makers:
        args = make(np.random.default_rng(int(rng.integers(1 << 63))))
        out.append((name, args, expected_answer(problem, oracle, args)))
    return out


def expected_answer(problem: Problem, oracle: Callable[..., Any], args: Args) -> Expected:
    """The oracle's answer, on a copy of the inputs (an oracle that writes to them spoils nothing)."""
    try:
        return Expected(value=oracle(*deep_copy(args)))
    except problem.allowed_errors as exc:
        return Expected(error=exc)


@dataclass
class Correctness:
    """What the correctness phase saw, filled in as it runs: the outcome of every case run (the
    failing one last) and the submission's first call, JIT compilation included."""

    cases: list[CaseOutcome] = field(default_factory=list)
    first_call_s: float | None = None
    notes: list[str] = field(default_factory=list)  # the problem's notes on passing answers (never failures)


def check_cases(problem: Problem, oracle: Callable[..., Any], child: Child, cases: list[tuple[str, Args]], *,
                progress: Progress | None = None, into: Correctness | None = None, first_failure: bool = False,
                restart: Callable[[], Child] | None = None) -> Correctness:
    """Run every case in the child and judge each; then raise the Verdict of the first failure
    (the smallest failing case: cases come smallest first), its inputs attached. `into` collects
    every case's outcome, so a stopped phase still has its cases.

    A child that dies on a case is replaced by `restart()` (a fresh, loaded child) for the rest,
    at most MAX_RESTARTS times: a crash costs a restart, not the other cases' outcomes. A child
    that timed out is not: each further case could cost the whole wall-clock limit again. A
    forbidden operation (CE) stops the run too. Cases not run say why (status NOT_RUN).
    `first_failure` stops at the first failure, as for slow submissions."""
    seen = Correctness() if into is None else into
    progress = progress or no_progress
    first: Verdict | None = None
    stopped: str | None = None  # why the remaining cases are not run
    restarts = 0
    for i, (name, args) in enumerate(cases):
        progress("correctness", i, len(cases))
        size = float(problem.size_of(args))
        if stopped is not None:
            seen.cases.append(CaseOutcome(name, size, NOT_RUN, message=stopped))
            continue
        expected = expected_answer(problem, oracle, args)
        death: ChildDied | None = None
        try:
            try:
                reply, got, _ = child.call(args)
            except ChildDied as died:
                death = died
                raise _died(died, name) from None
            if seen.first_call_s is None and reply.get("status") == "ok":
                seen.first_call_s = reply["seconds"]
            judge_reply(problem, name, args, expected, reply, got, digest=None, mem_mb=child.limits.mem_mb)
        except Verdict as v:
            seen.cases.append(CaseOutcome(name, size, v.verdict, message=v.reason))
            if first is None:  # the failure shown in full: its inputs too
                v.detail.setdefault("inputs", describe_args(problem, args))
                v.detail["size"] = size
                first = v
            if first_failure:
                raise
            if v.verdict == "CE":
                stopped = f"not run: the run stopped at a forbidden operation in case {name!r}"
            elif death is not None:
                if death.reason in ("timeout", "cpu"):
                    stopped = (f"not run: the child ran out of time on case {name!r} (each further case could "
                               f"take the whole {child.limits.wall_s:g} s limit)")
                elif restart is None:
                    stopped = f"not run: the child died on case {name!r}"
                elif restarts >= MAX_RESTARTS:
                    stopped = f"not run: the child died {restarts + 1} times (the last on case {name!r})"
                else:
                    try:
                        child = restart()
                        restarts += 1
                    except Verdict as again:
                        stopped = f"not run: the child died on case {name!r} and did not restart ({again.reason})"
            continue
        seen.cases.append(CaseOutcome(name, size, "pass", seconds=reply.get("seconds")))
        if problem.notes is not None and expected.error is None:
            seen.notes.extend(n for n in problem.notes(args, got) if n not in seen.notes)
    progress("correctness", len(cases), len(cases))
    if first is not None:
        raise first
    return seen


def describe_args(problem: Problem, args: Args, limit: int = 200) -> str | None:
    """A printable form of small inputs (None when they are too big to be useful)."""
    if problem.describe is not None:
        return problem.describe(args)
    arrays = [a for a in args if isinstance(a, np.ndarray)]
    if sum(a.size for a in arrays) > limit:
        return None
    with np.printoptions(threshold=limit, linewidth=100):
        return "\n".join(f"arg {i}: {a!r}" for i, a in enumerate(args))


# -- how a grade ended -----------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    """The verdict of a grade, its one-line reason, what the record shows of the failure, and
    the grader's own flag when the failure may be the grader's."""

    verdict: str
    reason: str
    failure: dict[str, Any] | None = None
    flags: tuple[str, ...] = ()

    @classmethod
    def of(cls, exc: Exception) -> Outcome:
        """A Verdict as itself; a Rejected from a scoring hook as WA with its diff; anything
        else as a grader failure: RE, flagged for review, with the traceback."""
        if isinstance(exc, Verdict):
            return cls(exc.verdict, exc.reason, {k: v for k, v in exc.detail.items() if v is not None})
        if isinstance(exc, Rejected):
            first, _, rest = str(exc).partition("\n")
            return cls("WA", first, {"diff": rest} if rest else None)
        return cls("RE", f"the grader failed on this submission: {type(exc).__name__}: {exc}",
                   {"traceback": "".join(traceback.format_exception(exc))[-4000:]},
                   (f"grader: internal error ({type(exc).__name__}), review this record",))


# -- small helpers -----------------------------------------------------------------------
def digest(args: Args) -> str:
    from harness import codec

    return codec.digest(args)


def deep_copy(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*(deep_copy(v) for v in value))
    if isinstance(value, (tuple, list)):
        return type(value)(deep_copy(v) for v in value)
    if isinstance(value, dict):
        return {k: deep_copy(v) for k, v in value.items()}
    return value


def no_progress(stage: str, done: int, total: int) -> None:
    pass
