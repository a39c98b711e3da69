"""The timing phase: the submission against the problem's timing reference, call for call.

Per bench size, both children get the same inputs, built from fresh randomness every grade (never
from the public case seeds: an input known in advance could be answered from a table), in
alternating order so neither side always runs on a warmer machine. A speedup is taken over turns
of two pairs, one in each order, so what going first or second does to a call cancels within a
turn (stats.turn_ratios); a size stops only on a whole turn. The first pair of calls is a warm-up
(JIT compilation, caches) and never timed.

What is ranked is the grader's own clock: from the `go` it sends to the reply line it reads
(harness/sandbox.py). That round trip costs tens of µs, which would flatten the ratio at small
sizes, so a timed command is a batch of R back-to-back calls on R distinct inputs, R chosen per
size so that the reference's batch lasts about the plan's `batch_s` (both children get the same R), and
the time per call is the batch's time over R (docs/sandbox.md has the numbers).

Every timed answer is judged against the reference's answer, and correctness cases are replayed
to the timing child at random points (possibly before anything else), judged like correctness
calls, so the code timed is the code judged. With a leaderboard secret the number of warm-ups,
the side that starts and the number of replays vary too. The phase produces data only: typed rows
per size and the raw timed calls; the integrity flags (harness/integrity.py) and the score are
computed from them.
"""
from __future__ import annotations

import math
import random
import secrets
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NamedTuple

import numpy as np

from harness import heap, sandbox, stats
from harness.judge import Call, Expected, Progress, Verdict, call, judge_reply, no_progress, run_batch
from harness.schema import TimingRow
from harness.sandbox import Child, Seen
from harness.spec import Args, Problem
from harness.yardstick import gemm_key

TARGET_BATCH_S = 0.005  # a timed command of the reference lasts at least this long (TimingPlan.batch_s)
MAX_BATCH = 128
MAX_INPUTS_PER_SIZE = 1024  # bounds the inputs the grader builds for one size (each command has R)
# the children alternate who goes first, so a speedup is taken over turns of two pairs, one of each
# order (stats.turn_ratios): what going first or second does to a call cancels within a turn
TURN = 2


@dataclass(frozen=True)
class TimingPlan:
    """How hard to time, per size: at least `min_reps` timed commands (pairs), at most `max_reps`,
    and in between more until the 95% interval of the size's speedup reaches within ±`precision`
    of it (relative half-width) or `budget_s` of the grader's clock has gone on the size's timed
    commands (inputs built, both sides run and judged; warm-ups, JIT compilation included, do not
    count). Without a `precision` a size runs to its budget. A tight size stops early, a noisy
    one uses its budget: the time goes where the noise is."""

    name: str
    min_reps: int
    max_reps: int
    budget_s: float
    max_sizes: int | None = None  # None: every bench size
    replays: int = 1  # random-size correctness cases replayed in the timing child (besides every edge case)
    precision: float | None = None  # stop a size once its speedup's interval is within ±precision
    # the whole phase's allowance: a larger size whose minimum, predicted from the last size, would
    # end past it is not timed, nor any after it (None: every size, however long it takes)
    phase_budget_s: float | None = None
    # the last size (the largest: fewest pairs, most noise) may take up to `last_extra` times its
    # budget while the score's interval, over every size, is wider than ±score_precision
    score_precision: float | None = None
    last_extra: float = 1.0
    batch_s: float = TARGET_BATCH_S  # a timed command of the reference lasts at least this long

    def sizes(self, problem: Problem) -> list[int]:
        sizes = list(problem.bench_sizes)
        return sizes[: self.max_sizes] if self.max_sizes else sizes


PLANS = {
    "full": TimingPlan("full", min_reps=6, max_reps=200, budget_s=1.5, precision=0.03, score_precision=0.04,
                       last_extra=2.0),
    # every size, as "full" does, so the quick score estimates the same geometric mean (two small
    # sizes alone were 33% off it); fewer pairs (two turns: the least that has an interval), a looser
    # interval, and half the batch: the round trip (tens of µs) is still about 2% of it, and a quick spmv grade
    # went 3.63 -> 3.23 s (medians of eight random-order rounds, paired -0.33 s)
    "quick": TimingPlan("quick", min_reps=4, max_reps=40, budget_s=0.25, precision=0.10, phase_budget_s=20.0,
                        batch_s=TARGET_BATCH_S / 2),
    "off": TimingPlan("off", min_reps=0, max_reps=0, budget_s=0.0, max_sizes=0, replays=0),
}


class TimedCall(NamedTuple):
    """One timed pair, per call: what each child reported, and what the grader's clock saw from
    its `go` to the reply (the ranked figure). `batch` calls ran back to back in the command;
    `sub_seen`/`ref_seen` are the grader's whole view of the command (prepare, post, CPU)."""

    sub_s: float
    sub_wall_s: float
    ref_s: float
    ref_wall_s: float
    batch: int = 1
    sub_seen: Seen | None = None
    ref_seen: Seen | None = None


class Replay(NamedTuple):
    """A correctness case to replay in the timing child, with the oracle's answer."""

    name: str
    args: Args
    expected: Expected


@dataclass
class Measured:
    """What the timing phase measured, filled in as it runs: a phase stopped by a verdict keeps
    the sizes it finished and every timed call."""

    rows: list[TimingRow] = field(default_factory=list)
    calls: list[TimedCall] = field(default_factory=list)
    wall_s: float = 0.0  # the grader's clock from the phase's start to the last finished size
    first_reference_s: float | None = None  # the reference's warm-up call, JIT compilation included
    replayed: list[str] = field(default_factory=list)  # correctness cases replayed in the timing child
    per_size: list[list[TimedCall]] = field(default_factory=list)  # the timed calls of each finished size
    untimed: list[int] = field(default_factory=list)  # sizes left out: they would outlast the plan's phase budget


@dataclass(frozen=True)
class Speed:
    """The summary of a timed grade: geometric mean of the speedups, its 95% interval, and the
    log-log slopes."""

    score: float | None = None
    slope: float | None = None
    reference_slope: float | None = None
    score_interval: tuple[float, float] | None = None  # None with a single timed command per size


class Schedule:
    """What an adversary could use to tell the phases apart, decided per grade: each replayed case
    goes at a random point among the commands every plan reaches (after the first bench command;
    with a secret, possibly before anything), and all of them once more after the last timed
    command, so a child that switches to another algorithm at any point is caught. With a secret
    the number of warm-up pairs, the side that starts (and, in `measure`, the number of timed
    commands) vary too."""

    def __init__(self, sizes: int, plan: TimingPlan, replays: int, hidden: bool, rng: random.Random):
        self.warmups = [rng.randint(1, 3) if hidden else 1 for _ in range(sizes)]
        self.start = [rng.randint(0, 1) if hidden else 1 for _ in range(sizes)]
        slots = [(si, k) for si in range(sizes) for k in range(self.warmups[si] + max(1, plan.min_reps))]
        if not hidden:
            slots = slots[1:]  # the first command is always a bench input: no tell, replays catch a switch
        self.replays: dict[tuple[int, int], list[int]] = {}
        for i in range(replays if slots else 0):
            self.replays.setdefault(rng.choice(slots), []).append(i)


def fresh_rng(entropy: int, *where: int) -> np.random.Generator:
    """The generator of one timed input: this grade's fresh entropy, then the input's place."""
    return np.random.default_rng([entropy, *where])


def batch_size(reference_s: float, input_bytes: int, mem_mb: int, target_s: float = TARGET_BATCH_S) -> int:
    """Calls per timed command: enough that the reference's batch lasts `target_s`, within
    MAX_BATCH and a quarter of the memory limit for the batch's inputs."""
    if reference_s <= 0 or not math.isfinite(reference_s):
        return 1
    want = math.ceil(target_s / reference_s)
    room = max(1, (mem_mb << 20) // 4 // max(1, input_bytes))
    return max(1, min(want, MAX_BATCH, room))


def measure(problem: Problem, plan: TimingPlan, sub: Child, ref: Child, *, secret: str,
            yardstick: dict | None = None, progress: Progress | None = None,
            into: Measured | None = None, replays: list[Replay] | None = None,
            on_pair: Callable[[int, list[TimedCall]], None] | None = None,
            clock: Callable[[], float] = time.perf_counter) -> Measured:
    """Time `sub` against `ref` over the plan's sizes; raise the Verdict of a wrong timed answer
    or a wrong replayed case. `into` collects what was measured, so a stopped phase still has its
    rows and calls; `on_pair(size, calls)` sees each size's timed pairs as they come (a live display).
    `clock` is the grader's clock for the plan's budgets (injectable: tests need no wall clock)."""
    # each command's inputs, staged once; built in the memory the last command's left (harness/heap.py)
    with tempfile.TemporaryDirectory(prefix="sparsebench-staged-") as folder, heap.kept():
        return _measure(problem, plan, sub, ref, secret=secret, yardstick=yardstick, progress=progress, into=into,
                        replays=replays, on_pair=on_pair, clock=clock, folder=Path(folder))


def _measure(problem: Problem, plan: TimingPlan, sub: Child, ref: Child, *, secret: str, yardstick: dict | None,
             progress: Progress | None, into: Measured | None, replays: list[Replay] | None,
             on_pair: Callable[[int, list[TimedCall]], None] | None, clock: Callable[[], float],
             folder: Path) -> Measured:
    out = Measured() if into is None else into
    progress = progress or no_progress
    real_children = hasattr(sub, "run") and hasattr(ref, "run")  # stand-ins (tests) take calls one by one
    sizes = plan.sizes(problem)
    rng = random.Random(secrets.randbits(64))
    entropy = secrets.randbits(128)  # fresh inputs: recorded only as "fresh"
    cases = list(replays or []) if plan.replays else []
    schedule = Schedule(len(sizes), plan, len(cases), bool(secret), rng)
    same = replace(problem, check=_same_as_reference) if problem.check else problem
    phase_start = clock()
    last: tuple[int, float, float] | None = None  # the last size, its cost per input, its reference's call
    seen_bytes: list[tuple[int, int]] = []  # (size, the bytes of one of its inputs) for the sizes timed so far
    for si, n in enumerate(sizes):
        if plan.phase_budget_s is not None and last is not None:
            left = plan.phase_budget_s - (clock() - phase_start)
            if predicted_s(plan, schedule.warmups[si], *last, n) > left:
                out.untimed = sizes[si:]
                break
        progress(f"timing {problem.size_unit}={n:,}", si, len(sizes))
        calls: list[TimedCall] = []
        measures: list[float] = []
        name = f"bench {problem.size_unit}={n:,}"
        warmups, batch, inputs, command = schedule.warmups[si], 1, 0, 0
        more = rng.randint(0, 2) if secret else 0  # with a secret the number of timed commands varies too
        rep = -warmups  # negative reps are warm-ups (JIT compilation, caches), never timed
        args = None
        started = phase_start  # set again at the first timed command
        commands_s = 0.0  # the timed commands alone (no replays): what predicts the next size
        check = Precision(plan.precision)
        whole = ScorePrecision(plan.score_precision if si == len(sizes) - 1 and out.rows else None, out.rows)
        staging = sandbox.Staging(folder) if real_children else None  # one file for both children, per size
        if staging is not None and seen_bytes:  # the file's pages are found while the first input is built
            staging.reserve(predicted_bytes(seen_bytes, n))
        while True:
            if rep == 0:
                started = clock()  # the first timed command: the budget holds timed commands only
            for i in schedule.replays.pop((si, command), []):
                _replay(problem, sub, cases[i], out)
            command += 1
            began = clock()
            # the last command's inputs and results go first: a 10^7 input is 120 MB, and memory
            # touched for the first time costs the most in building one
            group = args = replies = r_got = s_got = None
            group = [problem.bench_args(fresh_rng(entropy, si, command, i), n) for i in range(1 if rep < 0 else batch)]
            args = group[-1]
            first_ref = (rep + schedule.start[si]) % 2 == 0
            order = [("ref", ref), ("sub", sub)] if first_ref else [("sub", sub), ("ref", ref)]
            staged = staging.write(group) if staging is not None else None
            replies = {role: _run(child, group, name, staged) for role, child in order}
            (r_reply, r_got, r_seen), (s_reply, s_got, s_seen) = replies["ref"], replies["sub"]
            if r_reply["status"] != "ok":
                raise RuntimeError(f"the timing reference failed on {name}: {r_reply}")
            _judge(problem, name, group, r_got, s_reply, s_got, sub.limits.mem_mb, same=same)
            k = len(group)
            if rep < 0:
                if out.first_reference_s is None:
                    out.first_reference_s = r_reply["seconds"]
                if rep == -1 and real_children and not single(last, n, plan.batch_s):
                    # one more reference call, warm now, sets the batch (a stand-in child keeps 1)
                    # (its own clock: trusted code, and the gap around a command is not what needs amortising)
                    again, _, seen = run_batch(ref, [args], name)
                    per_call = min(seen.wall_s, again.get("seconds") or seen.wall_s)
                    batch = batch_size(per_call, _input_bytes(args), sub.limits.mem_mb, plan.batch_s)
            else:
                timed = TimedCall(s_reply["seconds"] / k, s_seen.wall_s / k, r_reply["seconds"] / k, r_seen.wall_s / k,
                                  k, s_seen if real_children else None, r_seen if real_children else None)
                calls.append(timed)
                out.calls.append(timed)
                if on_pair is not None:
                    on_pair(n, calls)
                measures += [float(problem.size_of(a)) for a in group]
                inputs += k
                commands_s += clock() - began
            rep += 1
            spent = clock() - started
            if rep >= plan.max_reps + more or (rep >= plan.min_reps + more and rep % TURN == 0 and (
                    inputs >= MAX_INPUTS_PER_SIZE or check.met(calls) or (spent >= plan.budget_s and (
                        spent >= plan.budget_s * plan.last_extra or whole.met(calls))))):
                break
        if staging is not None:  # its pages are free for the next size's (a phase stopped early: the folder goes)
            staging.close()
        out.rows.append(size_row(n, measures, calls, yardstick=yardstick,
                                 bytes_moved=problem.bytes_of(args) if problem.bytes_of else None,
                                 flops=problem.flops_of(args) if problem.flops_of else None,
                                 gemm_dtype=problem.gemm_dtype))
        out.per_size.append(calls)
        out.wall_s = clock() - phase_start
        if inputs:
            last = (n, commands_s / inputs, stats.median(ranked(calls)[1]))
        if args is not None:
            seen_bytes.append((n, _input_bytes(args)))
    if sizes:  # every case once more, after the last timed command, in a fresh order
        for i in [*(j for places in schedule.replays.values() for j in places), *rng.sample(range(len(cases)),
                                                                                            len(cases))]:
            _replay(problem, sub, cases[i], out)
    progress("timing", len(sizes), len(sizes))
    return out


def single(last: tuple[int, float, float] | None, n: int, target_s: float = TARGET_BATCH_S) -> bool:
    """Whether size `n`'s batch is one call: the last size's reference call, scaled linearly to
    `n`, already lasts two batches (the batch-setting call is then not needed). Sure for code at
    least linear in the size; a sublinear reference would be given a batch of one a size early."""
    return last is not None and last[2] * n / max(1, last[0]) >= 2 * target_s


def predicted_bytes(seen: list[tuple[int, int]], n: int) -> int:
    """The bytes of one input at size `n`, from (size, bytes) of the sizes before it: the line
    through the last two (inputs hold fixed parts too, such as an MoE layer's weights), or
    proportional to the one; never less than the last size's."""
    (n1, b1) = seen[-1]
    if len(seen) >= 2 and seen[-2][0] != n1:
        n0, b0 = seen[-2]
        guess = b1 + (b1 - b0) * (n - n1) / (n1 - n0)
    else:
        guess = b1 * n / max(1, n1)
    return int(max(b1, guess))


def predicted_s(plan: TimingPlan, warmups: int, n_last: int, per_input_s: float, ref_call_s: float,
                n: int) -> float:
    """The least a size `n` would take, from the last size timed: what one input cost there
    (built, both sides run and judged), scaled linearly with the size (superlinear code costs
    more still), times the warm-ups, the batch-setting call and the minimum of batched pairs."""
    scale = n / max(1, n_last)
    batch = batch_size(ref_call_s * scale, 1, 1 << 20, plan.batch_s)  # the batch the reference's call would set there
    return per_input_s * scale * (warmups + 1 + plan.min_reps * batch)


class Precision:
    """The stopping rule's test: is the size's speedup known to within ±`target`? The bootstrap
    costs milliseconds, so it runs again only once the timed commands have grown by an eighth
    (a size that needs 200 commands is tested about 30 times, not 200)."""

    REPLICATES = 1000  # enough for a stopping test; the row's own interval uses stats.BOOTSTRAP

    def __init__(self, target: float | None):
        self.target, self.next_at, self.width = target, 0, math.inf

    def met(self, calls: list[TimedCall]) -> bool:
        if self.target is None or len(calls) < max(2, self.next_at):
            return False
        self.next_at = len(calls) + max(1, len(calls) // 8)
        sub_t, ref_t = ranked(calls)
        interval = speedup_interval(sub_t, ref_t, replicates=self.REPLICATES)
        centre = pair_speedup(sub_t, ref_t)
        self.width = stats.relative_half_width(*interval, centre) if interval and centre else math.inf
        return self.width <= self.target


class ScorePrecision:
    """The last size's extra test: is the score's interval, the finished sizes' rows and this
    size's pairs so far, within ±`target`? (None: no test, the size stops at its budget.) Tested
    again only once the pairs have grown by an eighth, as Precision."""

    def __init__(self, target: float | None, rows: list[TimingRow]):
        self.target, self.rows, self.next_at = target, rows, 0

    def met(self, calls: list[TimedCall]) -> bool:
        if self.target is None:
            return True
        if len(calls) < max(2, self.next_at):
            return False
        self.next_at = len(calls) + max(1, len(calls) // 8)
        sub_t, ref_t = ranked(calls)
        rows = [*((r.sub_times_s, r.ref_times_s) for r in self.rows), (sub_t, ref_t)]
        interval = _score_interval(rows, Precision.REPLICATES, 0)
        if interval is None:
            return True
        centre = stats.geomean([pair_speedup(s, r) or math.nan for s, r in rows])
        return stats.relative_half_width(*interval, centre) <= self.target


def pair_speedup(sub_t: list[float], ref_t: list[float]) -> float | None:
    """The median over turns of reference time / submission time (the two timed back to back on
    one input, so a slow moment cancels; a turn is two pairs, one of each order, so what going
    first does cancels too: stats.turn_ratios); None when it is not a positive finite number."""
    if not sub_t or len(sub_t) != len(ref_t):
        return None
    ratio = stats.median(stats.turn_ratios(ref_t, sub_t, TURN))
    return ratio if math.isfinite(ratio) and ratio > 0 else None


def speedup_interval(sub_t: list[float], ref_t: list[float], *, replicates: int = stats.BOOTSTRAP,
                     seed: int = 0) -> tuple[float, float] | None:
    """The 95% bootstrap interval of one size's speedup, the median of the turns' ratios
    (pair_speedup), turns resampled. None with fewer than two turns or a resample without a
    finite positive speedup."""
    if len(sub_t) < 2 * TURN or len(sub_t) != len(ref_t):
        return None
    ratios = stats.bootstrap_paired_ratios(ref_t, sub_t, np.random.default_rng(seed), replicates, TURN)
    if not (np.isfinite(ratios).all() and (ratios > 0).all()):
        return None
    return stats.percentile_interval(ratios)


def score_interval(rows: list[TimingRow], *, replicates: int = stats.BOOTSTRAP,
                   seed: int = 0) -> tuple[float, float] | None:
    """The 95% bootstrap interval of the score (geometric mean of the sizes' speedups): each
    size's turns resampled on their own (sizes are timed apart), the geometric mean taken per
    replicate. None when a size has fewer than two turns or no finite positive speedup."""
    return _score_interval([(t.sub_times_s, t.ref_times_s) for t in rows], replicates, seed)


def _score_interval(rows: list[tuple[list[float], list[float]]], replicates: int,
                    seed: int) -> tuple[float, float] | None:
    if not rows:
        return None
    per_size = []
    for i, (sub_t, ref_t) in enumerate(rows):
        if len(sub_t) < 2 * TURN or len(sub_t) != len(ref_t):
            return None
        per_size.append(stats.bootstrap_paired_ratios(ref_t, sub_t, np.random.default_rng([seed, i]), replicates,
                                                      TURN))
    ratios = np.vstack(per_size)
    if not (np.isfinite(ratios).all() and (ratios > 0).all()):
        return None
    return stats.percentile_interval(np.exp(np.log(ratios).mean(axis=0)))


def _run(child: Child, group: list, name: str, staged: Path | None = None) -> tuple[dict, list | None, Seen]:
    """One timed command; a stand-in child with only `call` (tests) gets each call in turn."""
    if hasattr(child, "run"):
        return run_batch(child, group, name, staged)
    results, seconds, wall = [], 0.0, 0.0
    for args in group:
        reply, got, w = call(child, args, name)
        if reply["status"] != "ok":
            return reply, None, Seen(0.0, wall + w, 0.0, None, 0.0, None)
        results.append(got)
        seconds += reply["seconds"]
        wall += w
    return {**reply, "seconds": seconds}, results, Seen(0.0, wall, 0.0, None, 0.0, None)


def _judge(problem: Problem, name: str, group: list, r_got: list, reply: dict, got: list | None, mem_mb: int,
           *, same: Problem | None = None) -> None:
    """Each of the batch's answers against the reference's; a failed call is judged on its own input.
    An answer bit for bit the reference's (same types, dtypes, shapes and bytes) is right as the
    reference is, so `same` (the problem without its check) judges it: every rule on the reply
    still applies, only the problem's check, which can cost more than both calls (a canonical
    CSR of 10^6 entries: ~0.9 s), is not run again on the reference's own answer."""
    if reply["status"] != "ok":
        i = min(reply.get("index", 0), len(group) - 1)
        judge_reply(problem, name, group[i], Expected(r_got[i]), reply, None, digest=None, mem_mb=mem_mb)
        return
    for args, want, have in zip(group, r_got, got or [None] * len(group)):
        judge = same if same is not None and identical(want, have) else problem
        judge_reply(judge, name, args, Expected(want), reply, have, digest=None, mem_mb=mem_mb)


def _same_as_reference(args: Args, expected: object, got: object) -> None:
    """The check of an answer identical to the reference's: nothing to report."""
    return None


def identical(a: object, b: object) -> bool:
    """The same answer bit for bit: the same types all the way down, arrays of the same dtype,
    shape and bytes, equal plain scalars. Anything else (object arrays, dicts, other types) is
    not known identical here, and goes through the problem's check."""
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and a.dtype.kind in "biufc" and same_bytes(a, b)
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(identical(x, y) for x, y in zip(a, b))
    if isinstance(a, (bool, int, str, bytes, type(None))):
        return a == b
    if isinstance(a, (float, np.generic)):
        return np.asarray(a).tobytes() == np.asarray(b).tobytes()
    return False


def same_bytes(a: np.ndarray, b: np.ndarray, chunk: int = 1 << 20) -> bool:
    """Whether two arrays of one dtype and shape hold the same bytes (NaN payloads and signed
    zeros count), compared `chunk` bytes at a time: `tobytes` copied both, 8.8 ms for a 7 MB
    answer and more the first time (new pages), where this takes under 1 ms and a 1 MB temporary."""
    x = np.ascontiguousarray(a).reshape(-1).view(np.uint8)
    y = np.ascontiguousarray(b).reshape(-1).view(np.uint8)
    return all(np.array_equal(x[i:i + chunk], y[i:i + chunk]) for i in range(0, x.size, chunk))


def _replay(problem: Problem, sub: Child, case: Replay, out: Measured) -> None:
    """A correctness case in the timing child, judged as in the correctness phase (untimed)."""
    label = f"{case.name} (replayed during timing)"
    out.replayed.append(case.name)
    try:
        reply, got, _ = call(sub, case.args, label)
        judge_reply(problem, label, case.args, case.expected, reply, got, digest=None, mem_mb=sub.limits.mem_mb)
    except Verdict as v:
        if v.verdict == "WA":
            raise Verdict("WA", f"answered a correctness case wrongly during timing: {v.reason}",
                          **{**v.detail, "case": label}) from None
        raise


def _input_bytes(args: Args) -> int:
    total = 0
    stack = [args]
    while stack:
        v = stack.pop()
        if isinstance(v, np.ndarray):
            total += v.nbytes
        elif isinstance(v, (tuple, list)):
            stack += list(v)
        elif isinstance(v, dict):
            stack += list(v.values())
    return total


def size_row(size: int, measures: list[float], calls: list[TimedCall], *, yardstick: dict | None = None,
             bytes_moved: float | None = None, flops: float | None = None,
             gemm_dtype: str | None = None) -> TimingRow:
    """One size's row from its timed calls: medians and spreads of the grader's clock (what is
    ranked), speedup, the time the grader saw around the calls that the children did not report,
    and the rates of the problem's models (`bytes_moved`, `flops`: of one input, the last one timed;
    `gemm_dtype`: the precision whose measured GEMM rate the GFLOP/s are a share of).
    A zero or non-finite median gives no speedup (None), never an infinite one."""
    sub_t, ref_t = ranked(calls)
    sub_med, ref_med = stats.median(sub_t), stats.median(ref_t)
    interval = speedup_interval(sub_t, ref_t)
    gbytes = bandwidth = gflops = gemm = None
    finite = math.isfinite(sub_med) and sub_med > 0
    if bytes_moved is not None and finite:
        gbytes = bytes_moved / sub_med / 1e9
        if yardstick and "triad_gbytes_per_s" in yardstick:
            bandwidth = 100.0 * gbytes / yardstick["triad_gbytes_per_s"]
    if flops is not None and finite:
        gflops = flops / sub_med / 1e9
        rate = (yardstick or {}).get(gemm_key(gemm_dtype)) if gemm_dtype else None
        if rate:
            gemm = 100.0 * gflops / rate
    speedup = pair_speedup(sub_t, ref_t) if finite and math.isfinite(ref_med) and ref_med > 0 else None
    seen = [c for c in calls if c.sub_seen is not None and c.ref_seen is not None]
    return TimingRow(size=size, measure=stats.median(measures), reps=len(calls),
                     sub_median_s=sub_med, sub_spread=stats.spread(sub_t),
                     ref_median_s=ref_med, ref_spread=stats.spread(ref_t),
                     speedup=speedup,
                     speedup_lo=interval[0] if interval and speedup is not None else None,
                     speedup_hi=interval[1] if interval and speedup is not None else None,
                     sub_overhead_s=stats.median([c.sub_wall_s - c.sub_s for c in calls]),
                     ref_overhead_s=stats.median([c.ref_wall_s - c.ref_s for c in calls]),
                     # every timed call, in order (pairs share an input): `sparsebench compare` tests these
                     sub_times_s=sub_t, ref_times_s=ref_t,
                     gbytes_per_s=gbytes, bandwidth_pct=bandwidth, gflops=gflops, gemm_pct=gemm,
                     batch=calls[0].batch if seen else None,
                     sub_reported_s=stats.median([c.sub_s for c in calls]) if seen else None,
                     **_windows(seen))


def _windows(seen: list[TimedCall]) -> dict:
    """The fastest command's time before 'go' and after the reply line, each side (None without
    the grader's view of the commands): work hidden there adds to every command, a busy machine
    only to some, so the minimum shows the one and not the other."""
    out = {}
    for side in ("sub", "ref"):
        for window in ("prepare", "post"):
            values = [getattr(getattr(c, f"{side}_seen"), f"{window}_s") for c in seen]
            out[f"{side}_{window}_s"] = min(values) if values else None
    return out


def ranked(calls: list[TimedCall]) -> tuple[list[float], list[float]]:
    """The times that are ranked, per call, each side: the child's own clock, but never less than
    the grader's clock around the command (over its batch) less the round trip the grader sees on
    the reference's child at this size (the 90th percentile of the gaps between the reference's
    trusted clock and the grader's). A child that slows, stops or forges its clock is ranked on
    the grader's clock; an honest one on its own, which a loaded machine disturbs less (the
    grader's clock also holds two processes' wake-ups, with a long tail). What a lie can win is
    bounded by that round trip (tens of µs per command on a quiet machine, docs/sandbox.md), which
    nothing the submission does changes. Stand-in children (tests) keep their walls."""
    sub_t, ref_t = [c.sub_wall_s for c in calls], [c.ref_wall_s for c in calls]
    if not calls or any(c.sub_seen is None or c.ref_seen is None for c in calls):
        return sub_t, ref_t
    trip = max(0.0, float(np.percentile([c.ref_wall_s - c.ref_s for c in calls], 90)))
    return ([max(c.sub_s, c.sub_wall_s - trip, 0.5 * c.sub_wall_s) for c in calls],
            [max(c.ref_s, c.ref_wall_s - trip, 0.5 * c.ref_wall_s) for c in calls])


def summarise(rows: list[TimingRow]) -> Speed:
    """Score and scaling of a timed grade (slopes None when fewer than two distinct sizes; the
    score None when a size has no finite speedup: such a record is flagged, never ranked)."""
    if not rows:
        return Speed()
    measures = [t.measure for t in rows]
    slope = stats.loglog_slope(measures, [t.sub_median_s for t in rows])
    ref_slope = stats.loglog_slope(measures, [t.ref_median_s for t in rows])
    speedups = [t.speedup for t in rows]
    ok = all(s is not None and math.isfinite(s) and s > 0 for s in speedups)
    return Speed(score=stats.geomean(speedups) if ok else None,
                 slope=None if math.isnan(slope) else slope,
                 reference_slope=None if math.isnan(ref_slope) else ref_slope,
                 score_interval=score_interval(rows) if ok else None)


__all__ = ["TimingPlan", "PLANS", "TimedCall", "Replay", "Measured", "Speed", "Schedule", "Precision", "measure",
           "size_row", "summarise", "pair_speedup", "speedup_interval", "score_interval", "batch_size", "fresh_rng",
           "Call"]
