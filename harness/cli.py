"""The `sparsebench` command line: list, show, hint, new, grade, merge, compare, leaderboard, yardstick,
new-problem, check-problem; the `quiz` and `lm` groups are registered from quiz/cli.py and tinylm/cli.py."""
from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from harness import ROOT, identity, problems
from harness import record as records
from harness.bubblewrap import SandboxUnavailable
from harness.text import clean

console = Console()
err_console = Console(stderr=True)
INTERRUPTED = 130  # the exit status of a grade stopped by Ctrl-C (128 + SIGINT), as shells report it


class UsageError(Exception):
    """A bad command line: one clear message, exit status 2; `usage` adds the command's usage line."""

    def __init__(self, message: str, *, usage: bool = False):
        super().__init__(message)
        self.usage = usage


# -- list / show / new ------------------------------------------------------------------
def cmd_list(args: argparse.Namespace) -> int:
    me = identity.author(args.author)
    recs, _ = records.scan(args.results / "runs")
    best: dict[str, float] = {}
    tried: set[str] = set()
    for r in recs:
        if r["author"] != me or r.get("baseline") or r.get("kind", "grade") not in ("grade", "score"):
            continue
        tried.add(r["problem"])
        if r["verdict"] == "AC" and r.get("score") is not None:
            sign = -1.0 if r.get("lower_is_better") else 1.0  # a scored problem may rank lowest first
            if r["problem"] not in best or sign * r["score"] > sign * best[r["problem"]]:
                best[r["problem"]] = r["score"]
    table = Table(title=f"sparsebench problems (scores for {me})", title_justify="left")
    for col in ("problem", "title", "difficulty", "topic", "your best score"):  # slugs and scores never cut
        table.add_column(col, no_wrap=col in ("problem", "difficulty", "your best score"), overflow="fold")
    for p in problems.all_problems():
        unit = f" {p.scoring.unit}" if p.scoring else "x"
        mine = f"{best[p.slug]:.3g}{unit}" if p.slug in best else ("tried" if p.slug in tried else "-")
        table.add_row(p.slug, p.title, p.difficulty, ", ".join(p.tags), mine)
    console.print(table)
    from quiz import engine as quiz

    console.print(quiz.best_scores_table(recs, me))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    p = problems.get(args.problem)
    if args.examples or args.example:
        return _show_examples(p, args.example)
    from rich.markdown import Markdown  # local: 25 ms of import that only show and hint need

    from harness import statement

    if args.editorial:
        console.print(Markdown((p.folder / "editorial.md").read_text(encoding="utf-8")))
        return 0
    text = (p.folder / "README.md").read_text(encoding="utf-8")
    console.print(Markdown(statement.render(text, show_hints=not args.no_hints, slug=p.slug)))
    return 0


def cmd_hint(args: argparse.Namespace) -> int:
    """One hint of a statement, never the editorial: a nudge without the worked solution."""
    from rich.markdown import Markdown
    from rich.panel import Panel

    from harness import statement

    p = problems.get(args.problem)
    found = statement.hints((p.folder / "README.md").read_text(encoding="utf-8"))
    if not found:
        raise UsageError(f"{p.slug} has no hints; its worked solution is `sparsebench show {p.slug} --editorial`")
    if args.number > len(found):
        raise UsageError(f"{p.slug} has {len(found)} hint{'s' if len(found) != 1 else ''} (1-{len(found)}); "
                         f"there is no hint {args.number}")
    hint = found[args.number - 1]
    console.print(Panel(Markdown(hint.text), title=f"{p.slug} · {hint.title.lower()} of {len(found)}",
                        title_align="left", expand=False))
    if hint.number < len(found):
        console.print(f"next: sparsebench hint {p.slug} {hint.number + 1}", highlight=False)
    else:
        console.print(f"that was the last hint; the worked solution: sparsebench show {p.slug} --editorial",
                      highlight=False)
    return 0


def _show_examples(p: problems.Problem, name: str | None) -> int:
    """The list of a problem's sample submissions, or one of them in full (with its change)."""
    from rich.syntax import Syntax

    from harness import examples

    try:
        if name is None:
            table = Table(title=f"{p.slug}: sample submissions (`sparsebench show {p.slug} --example NAME`)",
                          title_justify="left")
            table.add_column("example", no_wrap=True)
            table.add_column("verdict")
            table.add_column("kind", no_wrap=True)
            table.add_column("what it shows")
            for e in examples.discover(p):
                kind = f"{e.base_path().name} + change" if e.is_change else "whole file"
                table.add_row(e.name, e.verdict, kind, (e.why.splitlines() or [""])[0])
            console.print(table)
            return 0
        example = examples.get(p, name)
        source = example.source()
    except examples.ExampleError as exc:
        raise UsageError(str(exc)) from None
    console.print(f"[bold]{example.name}[/] must get [bold]{example.verdict}[/] "
                  f"(problems/{p.slug}/examples/{example.path.name})", highlight=False)
    if example.is_change:
        console.print(Syntax(example.diff(), "diff", theme="ansi_dark"))
        console.print("the whole file as graded:", style="bold")
    console.print(Syntax(source, "python", theme="ansi_dark", line_numbers=True))
    return 0


def cmd_new(args: argparse.Namespace) -> int:
    p = problems.get(args.problem)
    handle = identity.author(args.author)
    target = ROOT / "solutions" / handle / f"{p.module_name}.py"
    if target.exists() and not args.force:
        raise UsageError(f"{_rel(target)} already exists; edit it, or pass --force to start over from the starter")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(p.folder / "starter.py", target)
    console.print(f"wrote [bold]{_rel(target)}[/] from problems/{p.slug}/starter.py\n"
                  f"next: [bold]sparsebench show {p.slug}[/], edit the file, then "
                  f"[bold]sparsebench grade {p.slug} {_rel(target)}[/]")
    return 0


# -- grade ------------------------------------------------------------------------------
def _targets(args: argparse.Namespace) -> list[tuple[problems.Problem, Path, str | None]]:
    """(problem, file, author or None for --author/git) for each file this command grades."""
    if args.all:
        return _work(args)
    if args.shard is not None or args.files_from:
        raise UsageError("--shard and --files-from split the work of --all ROOT; add --all")
    if len(args.target) == 2:
        first, second = args.target
        if first not in problems.slugs() and second in problems.slugs() and Path(first).is_file():
            raise UsageError(f"the problem comes first: sparsebench grade {second} {first}", usage=True)
        problem, file = problems.get(first), Path(second)
    elif len(args.target) == 1:
        file = Path(args.target[0])
        if not file.exists() and args.target[0] in problems.slugs():
            slug = args.target[0]
            raise UsageError(f"grade {slug}: which file? give the solution file after the problem, "
                             f"`sparsebench grade {slug} FILE` (`sparsebench new {slug}` starts one in "
                             f"solutions/<handle>/{problems.get(slug).module_name}.py)", usage=True)
        problem = None if file.is_dir() else problems.for_file(file)
        if problem is None and not file.is_dir():
            raise UsageError(f"cannot tell the problem from the file name {file.name!r}; "
                             f"use `sparsebench grade PROBLEM {file}`")
    else:
        raise UsageError("grade what? give PROBLEM FILE, a FILE named after its problem (coo_to_csr.py), "
                         "or --all DIR", usage=True)
    if file.is_dir():
        raise UsageError(f"{file} is a folder: to grade every submission in it, use `sparsebench grade --all {file}`")
    if not file.is_file():
        raise UsageError(f"no such file: {file}")
    if file.suffix == ".toml" and file.parent.name == "examples":  # a reference with a named change
        _example(problem, file)
    elif file.suffix != ".py":
        raise UsageError(f"{file} is not a Python file (.py)")
    return [(problem, file, None)]


def _example(problem: problems.Problem, file: Path):
    """The example a problems/<slug>/examples/<name>.toml file describes."""
    from harness import examples

    if problems.for_file(file) != problem:
        raise UsageError(f"{file} is not an example of {problem.slug} (they live in problems/{problem.slug}/examples/)")
    try:
        return examples.get(problem, file.stem)
    except examples.ExampleError as exc:
        raise UsageError(str(exc)) from None


def _work(args: argparse.Namespace) -> list[tuple[problems.Problem, Path, str | None]]:
    """The --all work list, narrowed by --files-from and --shard (see harness/shard.py)."""
    from harness import shard

    if args.target:
        raise UsageError("give either PROBLEM FILE or --all ROOT, not both")
    try:
        span = shard.parse_shard(args.shard) if args.shard is not None else (1, 1)
        items = shard.work_list(Path(args.all))
    except shard.ShardError as exc:
        raise UsageError(str(exc)) from None
    if not items and args.shard is None and not args.files_from:
        raise UsageError(f"{args.all} holds no file named after a problem (e.g. coo_to_csr.py), "
                         "nor subfolders (handles) that do")
    if args.author and any(w.author for w in items):
        raise UsageError(f"{args.all} is a folder of handles: each file is recorded under its folder's name, "
                         "so --author does not apply")
    total = len(items)
    if args.files_from:
        try:
            text = sys.stdin.read() if args.files_from == "-" else Path(args.files_from).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--files-from: cannot read {args.files_from}: {exc.strerror}") from None
        items = shard.restrict(items, text.splitlines())
        err_console.print(f"{len(items)} of {total} submissions under {args.all} are named in {args.files_from}")
    if args.shard is not None:
        chosen = shard.shard(items, *span)
        err_console.print(f"shard {span[0]}/{span[1]}: {len(chosen)} of {len(items)} submissions")
        items = chosen
    return [(problems.get(w.problem), w.file, w.author) for w in items]


def _limits(problem: problems.Problem, args: argparse.Namespace):
    """The problem's limits with --wall/--cpu/--mem applied; a --mem too small for the child to
    start is a usage error (harness/memfloor.py), not a fatal Python error in a panel."""
    from harness import memfloor

    overrides = {k: v for k, v in (("wall_s", args.wall), ("cpu_s", args.cpu), ("mem_mb", args.mem)) if v}
    if args.mem:
        try:
            memfloor.check(args.mem, args.threads)
        except memfloor.MemoryTooSmall as exc:
            raise UsageError(str(exc)) from None
    return replace(problem.limits, **overrides) if overrides else problem.limits


def _grade_one(problem: problems.Problem, file: Path, args: argparse.Namespace, plan: str, *,
               on_verdict: Callable[[dict], None] | None = None) -> dict:
    """One grade with the command line's options; the record is not yet stamped or written.

    For a person (not --json): the verdict as soon as correctness has passed (`on_verdict`, or
    one line), then the timing as it runs: on a terminal a live line (size, pairs, running
    ratio) and a line per finished size; elsewhere (pipes, CI logs) the lines per size only."""
    from harness.grader import TimingProgress, grade

    limits = _limits(problem, args)
    person = not args.json
    live = person and console.is_terminal
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=err_console, transient=True, disable=not live) as bar:
        task = bar.add_task(f"{problem.slug}", total=1)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, description=f"{problem.slug}: {stage}", completed=done, total=max(total, 1))

        def verdict(rec: dict) -> None:
            if on_verdict is not None:
                on_verdict(rec)
            elif person:
                console.print(verdict_line(rec), highlight=False)

        def timing(step: TimingProgress) -> None:
            if not person:
                return
            where = f"{problem.size_unit}={step.size:,}"
            ratio = f"ratio {step.ratio:.3g}x" if step.ratio is not None else "ratio -"
            pairs = f"{step.pairs} pair{'s' if step.pairs != 1 else ''}"
            if step.finished:  # one line per size, kept (plain text: a CI log reads it)
                console.print(f"  timed {where} ({step.index + 1}/{step.sizes}): {pairs}, {ratio}", highlight=False)
            elif live:
                bar.update(task, description=f"{problem.slug}: timing {where} · {pairs} · {ratio}",
                           completed=step.index, total=step.sizes)

        with contextlib.ExitStack() as stack:
            graded = stack.enter_context(_example(problem, file).file()) if file.suffix == ".toml" else file
            rec = grade(problem, graded, threads=args.threads, plan=plan, limits=limits,
                        baseline=args.baseline, progress=progress, first_failure=args.first_failure,
                        on_verdict=verdict, on_timing=timing)
        rec["file"] = _rel(file) if graded != file else rec["file"]
    return rec


def verdict_line(rec: dict) -> Text:
    """The verdict the moment correctness has passed, before the speed run."""
    n = len(rec.get("cases") or [])
    return Text.assemble((f" {clean(rec.get('verdict'), limit=8)} ", "bold green"),
                         f"  correct on all {n} case{'s' if n != 1 else ''} — timing now (Ctrl-C keeps this verdict)")


def _watch(args: argparse.Namespace, targets: list) -> int:
    """`grade FILE --watch`: the verdict (correctness, about a second), then quick timing when
    it is AC, again on every save of FILE, until Ctrl-C. One grade each time: the verdict is
    printed the moment correctness ends, the speed when timing has. Nothing is recorded: a
    watch run is practice, and dozens of rough quick scores an hour would crowd the
    leaderboard. Ctrl-C during the timing keeps the verdict on screen and stops the watch."""
    from datetime import datetime

    from harness import watch
    from harness.render import print_grade, speed_panel

    if args.json or args.dry_run:
        raise UsageError("--watch prints for a person; it does not combine with --json or --dry-run")
    (problem, file, _), = targets
    author = identity.author(args.author, file)
    _limits(problem, args)  # a bad --mem is an error now, not at every save

    def run(n: int) -> None:
        if console.is_terminal:
            console.clear()
        console.print(f"[bold]watching {escape(_rel(file))}[/] · grade {n} at {datetime.now():%H:%M:%S} · "
                      "Ctrl-C stops · nothing is recorded", highlight=False, soft_wrap=True)
        shown: list[dict] = []

        def verdict_first(rec: dict) -> None:  # AC, timing follows
            shown.append(rec)
            print_grade(records.finish(rec, author), console)

        rec = records.finish(_grade_one(problem, file, args, "off" if args.no_timing else "quick",
                                        on_verdict=verdict_first), author)
        if not shown:  # no timing followed (a failure, or --no-timing): the whole story
            print_grade(rec, console)
        elif rec["verdict"] == "AC" and not rec.get("interrupted"):
            console.print(speed_panel(rec))
        elif rec["verdict"] != "AC":  # e.g. a wrong output or a time limit at a benchmark size
            print_grade(rec, console)
        if rec.get("interrupted"):
            raise KeyboardInterrupt  # Ctrl-C during the timing: the verdict is on screen; stop watching
        console.print(f"waiting for the next save of {escape(_rel(file))}", style="dim", highlight=False,
                      soft_wrap=True)

    def gone() -> None:
        console.print(f"{escape(_rel(file))} is missing; waiting for it to come back", style="yellow",
                      highlight=False, soft_wrap=True)

    stats = watch.loop(file, run, on_missing=gone)
    console.print(f"stopped after {stats.runs} grade{'s' if stats.runs != 1 else ''}", highlight=False)
    return 0


def cmd_grade(args: argparse.Namespace) -> int:
    from harness.render import print_grade

    plan = "off" if args.no_timing else ("quick" if args.quick else "full")
    if args.watch and args.all:
        raise UsageError("--watch follows one file: sparsebench grade [PROBLEM] FILE --watch")
    targets = _targets(args)
    if args.dry_run or not targets:
        for problem, file, who in targets:
            # one line each, never wrapped
            print(f"{problem.slug}\t{clean(_rel(file))}\t{who or identity.author(args.author, file)}")
        if not targets:
            print("[]") if args.json else console.print("nothing to grade")
        return 0
    if args.watch:
        return _watch(args, targets)
    outcomes = []
    from harness import sandbox

    sandbox.require(sandbox.wanted_level())  # before the first grade: CI fails at once without bubblewrap
    for problem, file, who in targets:
        author = who or identity.author(args.author, file)
        rec = records.finish(_grade_one(problem, file, args, plan), author)
        if not args.no_record:
            rec["record_path"] = _rel(records.write(rec, args.results / "runs"))
        weaker = _weaker_sandbox(rec)
        if weaker:
            err_console.print(f"[bold yellow]warning:[/] [yellow]{escape(weaker)}[/]", soft_wrap=True)
        if args.json:
            outcomes.append(rec)
        else:
            print_grade(rec, console)
            if rec.get("record_path"):  # whole, on one line, however narrow the log: it is copied and pasted
                console.print(f"record: {escape(rec['record_path'])}", soft_wrap=True, highlight=False)
            outcomes.append(rec)
        if rec.get("interrupted"):  # Ctrl-C during timing: this verdict is kept, the rest not graded
            left = len(targets) - len(outcomes)
            err_console.print("interrupted: the verdict is recorded, its speed not measured"
                              + (f"; {left} more not graded" if left else ""), highlight=False, soft_wrap=True)
            break
    if args.json:
        json.dump(outcomes[0] if len(outcomes) == 1 and not args.all else outcomes, sys.stdout, indent=1)
        sys.stdout.write("\n")
    if outcomes and outcomes[-1].get("interrupted"):
        return INTERRUPTED
    return 0 if all(r["verdict"] == "AC" for r in outcomes) else 1


def _weaker_sandbox(rec: dict) -> str | None:
    """The warning line for a grade that ran with less than bubblewrap's private file system."""
    level = (rec.get("sandbox") or {}).get("level")
    if level in (None, "bubblewrap") or rec.get("baseline"):
        return None
    return (f"sandbox level {level!r}, not 'bubblewrap': the submission could see more of this machine than its own "
            "files (install bubblewrap for a private file system; leaderboard runs require it)")


# -- leaderboard ------------------------------------------------------------------------
def cmd_leaderboard(args: argparse.Namespace) -> int:
    from harness.leaderboard import build

    out = build(args.results / "runs", args.results, include_flagged=args.include_flagged)
    for message in out["skipped"]:
        err_console.print(f"[yellow]skipped[/] {escape(message)}", highlight=False)
    if out["overall"].empty:
        console.print("no AC records yet: grade something first (`sparsebench grade ...`)")
    else:
        console.print(_rich_table(out["overall"], "overall"))
        for slug, table in out["problems"].items():
            console.print(_rich_table(table, slug))
    for slug, table in out["scored"].items():
        console.print(_rich_table(table, slug))
    if not out["review"].empty:
        console.print(_rich_table(out["review"], "needs review (never ranked"
                                  + ("" if args.include_flagged else "; --include-flagged ranks the flagged ones")
                                  + ")"))
    console.print(f"wrote {_rel(args.results / 'leaderboard.md')} and {_rel(args.results / 'leaderboard.csv')}")
    if args.html:
        from harness import html_report

        every = problems.slugs()  # the page shows them all: speed problems and those ranked by a score
        scored = [s for s in every if problems.get(s).scoring is not None]
        page = html_report.write(out["records"], args.results / "leaderboard.html", out["skipped"], every,
                                 include_flagged=args.include_flagged, scored_problems=scored)
        console.print(f"wrote {_rel(page)}")
    return 0


# -- merge ------------------------------------------------------------------------------
def cmd_merge(args: argparse.Namespace) -> int:
    from harness.merge import merge

    out = args.out or args.results / "runs"
    report = merge(args.sources, out)
    for message in report.bad:  # paths and ids from the sources: cleaned, then escaped for rich
        err_console.print(f"[bold red]bad record[/] {escape(clean(message))}", highlight=False, soft_wrap=True)
    for message in report.conflicts:
        err_console.print(f"[bold red]conflict[/] {escape(clean(message))}", highlight=False, soft_wrap=True)
    console.print(f"read {report.files} record file(s) from {len(args.sources)} source(s): wrote {len(report.written)} "
                  f"new to {_rel(out)}, {report.already} already there, {report.duplicates} repeated, "
                  f"{len(report.bad)} bad, {len(report.conflicts)} conflicting", highlight=False, soft_wrap=True)
    return 0 if report.ok else 1


# -- compare ----------------------------------------------------------------------------
def _compared(path: Path, slug: str | None, plan: str) -> dict:
    """A record to compare: read from a .json record, or graded now from a .py submission."""
    from harness import grader

    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    if path.suffix == ".json":
        try:
            return records.read(path)
        except records.RecordError as exc:
            raise UsageError(str(exc)) from None
    if path.suffix != ".py":
        raise UsageError(f"{path}: compare takes submissions (.py) or records (.json)")
    problem = problems.get(slug) if slug else problems.for_file(path)
    if problem is None:
        raise UsageError(f"cannot tell the problem from the file name {path.name!r}; add --problem SLUG")
    with err_console.status(f"grading {_rel(path)} ({plan} timing)"):
        rec = grader.grade(problem, path, plan=plan)
    if rec.get("interrupted"):  # Ctrl-C during its timing: nothing to compare, stop
        raise KeyboardInterrupt
    return {**rec, "file": _rel(path)}


def cmd_compare(args: argparse.Namespace) -> int:
    from harness.compare import CompareError, compare
    from harness.render import FitTable, _fmt_time

    plan = "quick" if args.quick else "full"
    a, b = (_compared(p, args.problem, plan) for p in (args.a, args.b))
    try:
        result = compare(a, b, raw=args.raw, min_effect=args.min_effect)
    except CompareError as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        json.dump(result.as_dict(), sys.stdout, indent=1)
        sys.stdout.write("\n")
        return 0
    what = "per-call time" if args.raw else "per-call speedup (reference / submission, same input)"
    console.print(f"[bold]{escape(result.problem)}[/]: {what}", highlight=False)
    console.print(f"  A  {escape(result.a)}", highlight=False, soft_wrap=True)  # whole, however narrow the log
    console.print(f"  B  {escape(result.b)}", highlight=False, soft_wrap=True)
    show = _fmt_time if args.raw else (lambda v: _num(v, "{:.3g}x"))
    rows = [[f"{r.size:,}", f"{r.calls_a}/{r.calls_b}", show(r.median_a), show(r.median_b), _num(r.ratio, "{:.3f}x"),
             _num(r.p_value, "{:.2g}"), r.verdict] for r in result.sizes]
    console.print(FitTable(None, ["size", "calls A/B", "A", "B", "A vs B", "p", "verdict"], rows,
                           numeric=set(range(6)), keys=1))
    console.print("p: two-sided Mann-Whitney U test of A's and B's calls at that size", style="dim", highlight=False)
    if result.left_out:
        console.print(f"sizes only one side has, left out: {', '.join(f'{n:,}' for n in result.left_out)}")
    lo, hi = result.ci
    head = {"A": "A is faster", "B": "B is faster", "tie": "tie", "undecided": "undecided"}[result.verdict]
    measured = "" if _num(result.ratio) == "-" else (
        f"A/B = {result.ratio:.3f}x, 95% bootstrap interval {_num(lo, '{:.3f}')}-{_num(hi, '{:.3f}')}; ")
    console.print(f"[bold]{head}[/]: {measured}{escape(result.reason)}", highlight=False)
    console.print(f"noise floor {100 * result.noise_floor:.1f}% = the larger of {100 * args.min_effect:.0f}% "
                  "(--min-effect) and half the per-call spread (interquartile range / median)", highlight=False)
    return 0


def _num(value: float | None, fmt: str = "{:.3g}") -> str:
    """A number for a table, or '-' for one that was not measured (None, NaN): never 'nan'."""
    if value is None or value != value:
        return "-"
    return fmt.format(value)


# -- new-problem / check-problem (for problem authors) ----------------------------------------
def cmd_new_problem(args: argparse.Namespace) -> int:
    from harness import scaffold

    try:
        written = scaffold.create(args.slug, problems.PROBLEMS_DIR)
    except scaffold.ScaffoldError as exc:
        raise UsageError(str(exc)) from None
    for path in written:
        console.print(f"wrote {_rel(path)}", highlight=False)
    console.print(f"a placeholder problem (sum a vector) that grades AC; make it yours (docs/adding-a-problem.md), "
                  f"then [bold]sparsebench check-problem {args.slug}[/]", highlight=False)
    return 0


def cmd_check_problem(args: argparse.Namespace) -> int:
    from harness import checkup

    if not (problems.PROBLEMS_DIR / args.slug).is_dir() or args.slug.startswith("_"):
        raise UsageError(f"no problem folder problems/{args.slug}; known problems: {', '.join(problems.slugs())} "
                         f"(start one with `sparsebench new-problem {args.slug}`)")
    counts: dict[str, int] = {}
    for finding in checkup.check(args.slug):
        print(finding.line(), flush=True)  # plain text, one line each: greppable, never re-wrapped
        counts[finding.status] = counts.get(finding.status, 0) + 1
    failed = counts.get(checkup.FAIL, 0)
    print(f"{args.slug}: " + ", ".join(f"{n} {status}" for status, n in counts.items())
          + ("" if failed else " (clean)"))
    return 1 if failed else 0


# -- plumbing ---------------------------------------------------------------------------
def _rich_table(df, title: str):
    """A leaderboard table for the terminal: numbers never cut at 80 columns, '-' where a value
    is missing (never 'nan'); rank and author repeat when the size columns need a second table.
    rich reads markup in every string it is given, so record text is cleaned (harness/text.py)
    and escaped: an author named "[/]" or "\\x1b[2J" shows as itself."""
    from harness.render import FitTable

    headers = [escape(clean(c, limit=60)) for c in df.columns]
    numeric = {i for i, c in enumerate(df.columns) if df[c].dtype.kind in "if"}
    rows = [[_num(v) if isinstance(v, float) else ("-" if v is None else escape(clean(v, limit=200))) for v in row]
            for row in df.itertuples(index=False)]
    keys = sum(1 for h in headers[:2] if h in ("rank", "author")) or 1
    return FitTable(escape(clean(title, limit=200)), headers, rows, numeric=numeric, keys=keys)


def _rel(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sparsebench", description=(
        "Practise sparse-matrix and Mixture-of-Experts problems: read a statement, write a solution, "
        "grade it for correctness and speed against the reference, keep a leaderboard."))
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--results", type=Path, default=ROOT / "results",
                        help="folder holding runs/ and the leaderboard (default: the repo's results/)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add = lambda name, **kw: sub.add_parser(name, parents=[common], **kw)  # noqa: E731

    p = add("list", help="problems, with difficulty and your best score")
    p.add_argument("--author", help="whose scores to show (default: git user.name, else login)")
    p.set_defaults(func=cmd_list)

    p = add("show", help="a problem's statement, rendered in the terminal")
    p.add_argument("problem")
    p.add_argument("--editorial", action="store_true", help="show the worked solution instead")
    p.add_argument("--no-hints", action="store_true",
                   help="leave the hints out (reveal them one at a time with `sparsebench hint SLUG N`)")
    p.add_argument("--examples", action="store_true", help="list the problem's sample submissions and their verdicts")
    p.add_argument("--example", metavar="NAME", help="print one sample submission in full (a change of a reference "
                                                     "is shown as its diff, then the whole file)")
    p.set_defaults(func=cmd_show)

    p = add("hint", help="one hint of a problem's statement, without the worked solution")
    p.add_argument("problem")
    p.add_argument("number", nargs="?", type=_positive_int, default=1, metavar="N",
                   help="which hint (default: 1; the output names the next one)")
    p.set_defaults(func=cmd_hint)

    p = add("new", help="start a solution from the problem's starter file")
    p.add_argument("problem")
    p.add_argument("--author", help="your handle: solutions/<handle>/ (default: git user.name, else login)")
    p.add_argument("--force", action="store_true", help="overwrite an existing solution file")
    p.set_defaults(func=cmd_new)

    p = add("grade", help="grade a solution for correctness and speed, and record the result")
    p.add_argument("target", nargs="*", metavar="PROBLEM FILE", help="problem slug and solution file")
    p.add_argument("--all", metavar="ROOT", help=(
        "grade every submission under ROOT: one person's folder (files named after problems, "
        "e.g. solutions/alice/) or a folder of handles (e.g. solutions/: each subfolder is a handle, "
        "recorded as the author; reference/, baselines/, examples/ are skipped)"))
    p.add_argument("--shard", metavar="I/N", help=(
        "with --all: grade only the I-th of N disjoint shards (1 <= I <= N) of the work list "
        "sorted by (handle, problem), so N machines can share it"))
    p.add_argument("--files-from", metavar="FILE", help=(
        "with --all: grade only submissions named in FILE, one path a line (e.g. `git diff --name-only`); "
        "'-' reads standard input"))
    p.add_argument("--dry-run", action="store_true",
                   help="print what would be graded (problem, file, author), grade nothing")
    p.add_argument("--watch", action="store_true", help=(
        "grade FILE again on every save until Ctrl-C: the verdict first (correctness only), then quick timing "
        "when it is AC; records nothing"))
    p.add_argument("--json", action="store_true", help="print the record as JSON on stdout")
    p.add_argument("--author", help="handle recorded with the grade (default: HANDLE for a file in "
                                    "solutions/HANDLE/, else git user.name, else login)")
    p.add_argument("--threads", type=_positive_int, default=1, help="BLAS/Numba threads (default 1)")
    p.add_argument("--quick", action="store_true", help="every size, fewer pairs: a score to about ±10%%, in seconds")
    p.add_argument("--no-timing", action="store_true", help="correctness only")
    p.add_argument("--first-failure", action="store_true", help=(
        "stop correctness at the first failing case (default: every case runs and each one's outcome is "
        "listed; this is for submissions slow enough that the rest would take long)"))
    p.add_argument("--baseline", action="store_true", help="a library baseline: no import limits, never ranked")
    p.add_argument("--no-record", action="store_true", help="do not write a record under results/runs/")
    p.add_argument("--wall", type=_positive_float, help="wall-clock seconds per call (default: the problem's)")
    p.add_argument("--cpu", type=_positive_float, help="CPU seconds for the whole child (default: the problem's)")
    p.add_argument("--mem", type=_positive_int, help="address-space limit in MiB (default: the problem's)")
    p.set_defaults(func=cmd_grade, parser=p)

    p = add("merge", help="combine the records of many runs (e.g. CI shards) into one runs folder")
    p.add_argument("sources", nargs="+", type=Path, metavar="DIR",
                   help="folders of records (searched recursively) or record files")
    p.add_argument("--out", type=Path, help="runs folder to merge into (default: RESULTS/runs)")
    p.set_defaults(func=cmd_merge)

    p = add("compare", help="is A faster than B? two submissions (graded now) or two records, with a significance test")
    p.add_argument("a", type=Path, metavar="A", help="a submission (.py) or a record (.json)")
    p.add_argument("b", type=Path, metavar="B", help="the same problem's other submission or record")
    p.add_argument("--problem", help="the problem, when a .py file is not named after it")
    p.add_argument("--quick", action="store_true", help="grade .py files with quick timing (too few calls to test)")
    p.add_argument("--raw", action="store_true",
                   help="test the submissions' own per-call times, not speedups: fair only on one quiet machine")
    p.add_argument("--min-effect", type=_positive_float, default=0.05,
                   help="smallest relative difference ever called a win (default 0.05, i.e. 5%%)")
    p.add_argument("--json", action="store_true", help="print the comparison as JSON")
    p.set_defaults(func=cmd_compare)

    p = add("new-problem", help="start a problem folder problems/SLUG/ from the template (it grades AC as written)")
    p.add_argument("slug", help="lowercase letters, digits and dashes, e.g. sparse-softmax")
    p.set_defaults(func=cmd_new_problem)

    p = add("check-problem", help="check a problem folder as the test suite does; exit 1 on any FAIL")
    p.add_argument("slug")
    p.set_defaults(func=cmd_check_problem)

    p = add("leaderboard", help="rebuild results/leaderboard.md and .csv (and .html) from results/runs/")
    p.add_argument("--html", action="store_true",
                   help="also write results/leaderboard.html: one self-contained page with tables and charts")
    p.add_argument("--include-flagged", action="store_true", help=(
        "maintainers: rank flagged records and implausible (but finite) scores after checking them, "
        "their flags shown; without it they wait in the 'needs review' table. Non-finite scores and "
        "malformed records are never ranked"))
    p.set_defaults(func=cmd_leaderboard)

    from quiz.cli import add_parser as add_quiz  # argparse only: the engine loads on use
    from tinylm.cli import add_parser as add_lm  # argparse only: the model loads on use

    add_quiz(sub, [common], _positive_int)
    add_lm(sub, [common])

    p = add("yardstick", help="this machine's STREAM-triad bandwidth and GEMM rate (measured once, cached); "
                              "`yardstick table`: every reference against its peers")
    p.add_argument("--threads", type=_positive_int, nargs="+", default=[1], help="thread counts (default 1)")
    p.add_argument("--refresh", action="store_true", help="measure again instead of using the cache")
    p.set_defaults(func=lambda a: __import__("harness.yardstick").yardstick.command(a))
    actions = p.add_subparsers(dest="yardstick_action", metavar="ACTION")
    help_ = ("the yardstick table: interleaved ratios with bootstrap intervals against the targets of "
             "benchmarks/yardstick.toml, as markdown, CSV and JSON")
    try:
        table = _yardstick_table()
    except ImportError:  # an installed copy, or a tree without benchmarks/: the rest of the CLI still works
        t = actions.add_parser("table", help=help_ + " (needs the repository's benchmarks/ folder)")
        t.set_defaults(func=_no_benchmarks)
        return parser
    t = actions.add_parser("table", help=help_, description=table.__doc__.split("\n\n")[0])
    table.add_arguments(t)
    t.set_defaults(func=lambda a: table.run(a, command="sparsebench yardstick table"))
    return parser


def _no_benchmarks(args: argparse.Namespace) -> int:
    raise UsageError(f"`yardstick table` runs benchmarks/yardstick_table.py, which is not under {ROOT}: "
                     "run it from a clone of the repository")


def _yardstick_table():
    """benchmarks/yardstick_table.py (the repository's benchmarks folder, not an installed package)."""
    import importlib

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return importlib.import_module("benchmarks.yardstick_table")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (UsageError, problems.ProblemError, SandboxUnavailable) as exc:
        err_console.print(f"[bold red]error:[/] {escape(clean(exc))}", soft_wrap=True)  # one line, even in CI logs
        if getattr(exc, "usage", False) and getattr(args, "parser", None) is not None:
            err_console.print(escape(args.parser.format_usage().rstrip()), highlight=False)
        return 2
    except KeyboardInterrupt:  # Ctrl-C before a verdict (a grade's timing keeps its own: cmd_grade)
        err_console.print("interrupted", highlight=False)
        return INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
