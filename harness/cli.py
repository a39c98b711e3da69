"""The `sparsebench` command line: list, show, new, grade, leaderboard."""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.markdown import Markdown
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from harness import ROOT, identity, problems
from harness import record as records

console = Console()
err_console = Console(stderr=True)


class UsageError(Exception):
    """A bad command line: one clear message, exit status 2."""


# -- list / show / new ------------------------------------------------------------------
def cmd_list(args: argparse.Namespace) -> int:
    me = identity.author(args.author)
    recs, _ = records.scan(args.results / "runs")
    best: dict[str, float] = {}
    tried: set[str] = set()
    for r in recs:
        if r["author"] != me or r.get("baseline"):
            continue
        tried.add(r["problem"])
        if r["verdict"] == "AC" and r.get("score") is not None:
            best[r["problem"]] = max(best.get(r["problem"], 0.0), r["score"])
    table = Table(title=f"sparsebench problems (scores for {me})", title_justify="left")
    for col in ("problem", "title", "difficulty", "topic", "your best score"):
        table.add_column(col)
    for p in problems.all_problems():
        mine = f"{best[p.slug]:.3g}x" if p.slug in best else ("tried" if p.slug in tried else "-")
        table.add_row(p.slug, p.title, p.difficulty, ", ".join(p.tags), mine)
    console.print(table)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    p = problems.get(args.problem)
    page = p.folder / ("editorial.md" if args.editorial else "README.md")
    console.print(Markdown(page.read_text(encoding="utf-8")))
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
def _targets(args: argparse.Namespace) -> list[tuple[problems.Problem, Path]]:
    if args.all:
        folder = Path(args.all)
        if not folder.is_dir():
            raise UsageError(f"--all needs a folder of solutions, {args.all!r} is not one")
        found = [(problems.get(s), folder / f"{s.replace('-', '_')}.py") for s in problems.slugs()]
        found = [(p, f) for p, f in found if f.is_file()]
        if not found:
            raise UsageError(f"{folder} holds no file named after a problem (e.g. coo_to_csr.py)")
        return found
    if len(args.target) == 2:
        problem, file = problems.get(args.target[0]), Path(args.target[1])
    elif len(args.target) == 1:
        file = Path(args.target[0])
        problem = problems.for_file(file)
        if problem is None:
            raise UsageError(f"cannot tell the problem from the file name {file.name!r}; "
                             f"use `sparsebench grade PROBLEM {file}`")
    else:
        raise UsageError("usage: sparsebench grade PROBLEM FILE  (or FILE named after its problem, or --all DIR)")
    if not file.is_file():
        raise UsageError(f"no such file: {file}")
    if file.suffix != ".py":
        raise UsageError(f"{file} is not a Python file (.py)")
    return [(problem, file)]


def cmd_grade(args: argparse.Namespace) -> int:
    from harness.grader import grade
    from harness.render import print_grade

    author = identity.author(args.author)
    plan = "off" if args.no_timing else ("quick" if args.quick else "full")
    outcomes = []
    for problem, file in _targets(args):
        limits = problem.limits
        overrides = {k: v for k, v in (("wall_s", args.wall), ("cpu_s", args.cpu), ("mem_mb", args.mem)) if v}
        limits = replace(limits, **overrides) if overrides else limits
        show_progress = not args.json and console.is_terminal
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                      TimeElapsedColumn(), console=err_console, transient=True, disable=not show_progress) as bar:
            task = bar.add_task(f"{problem.slug}", total=1)

            def progress(stage: str, done: int, total: int) -> None:
                bar.update(task, description=f"{problem.slug}: {stage}", completed=done, total=max(total, 1))

            rec = grade(problem, file, threads=args.threads, plan=plan, limits=limits,
                        baseline=args.baseline, progress=progress)
        rec = records.finish(rec, author)
        if not args.no_record:
            rec["record_path"] = _rel(records.write(rec, args.results / "runs"))
        if args.json:
            outcomes.append(rec)
        else:
            print_grade(rec, console)
            if rec.get("record_path"):
                console.print(f"record: {rec['record_path']}")
            outcomes.append(rec)
    if args.json:
        json.dump(outcomes[0] if len(outcomes) == 1 and not args.all else outcomes, sys.stdout, indent=1)
        sys.stdout.write("\n")
    return 0 if all(r["verdict"] == "AC" for r in outcomes) else 1


# -- leaderboard ------------------------------------------------------------------------
def cmd_leaderboard(args: argparse.Namespace) -> int:
    from harness.leaderboard import build

    out = build(args.results / "runs", args.results)
    for message in out["skipped"]:
        err_console.print(f"[yellow]skipped[/] {message}")
    if out["overall"].empty:
        console.print("no AC records yet: grade something first (`sparsebench grade ...`)")
    else:
        console.print(_rich_table(out["overall"], "overall"))
        for slug, table in out["problems"].items():
            console.print(_rich_table(table, slug))
    console.print(f"wrote {_rel(args.results / 'leaderboard.md')} and {_rel(args.results / 'leaderboard.csv')}")
    return 0


# -- plumbing ---------------------------------------------------------------------------
def _rich_table(df, title: str) -> Table:
    table = Table(title=title, title_justify="left")
    for col in df.columns:
        table.add_column(str(col), justify="right" if df[col].dtype.kind in "if" else "left")
    for row in df.itertuples(index=False):
        table.add_row(*[f"{v:.3g}" if isinstance(v, float) else str(v) for v in row])
    return table


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
    p.set_defaults(func=cmd_show)

    p = add("new", help="start a solution from the problem's starter file")
    p.add_argument("problem")
    p.add_argument("--author", help="your handle: solutions/<handle>/ (default: git user.name, else login)")
    p.add_argument("--force", action="store_true", help="overwrite an existing solution file")
    p.set_defaults(func=cmd_new)

    p = add("grade", help="grade a solution for correctness and speed, and record the result")
    p.add_argument("target", nargs="*", metavar="PROBLEM FILE", help="problem slug and solution file")
    p.add_argument("--all", metavar="DIR", help="grade every file in DIR named after a problem")
    p.add_argument("--json", action="store_true", help="print the record as JSON on stdout")
    p.add_argument("--author", help="handle recorded with the grade (default: git user.name, else login)")
    p.add_argument("--threads", type=_positive_int, default=1, help="BLAS/Numba threads (default 1)")
    p.add_argument("--quick", action="store_true", help="two sizes, few repetitions: a fast, rough score")
    p.add_argument("--no-timing", action="store_true", help="correctness only")
    p.add_argument("--baseline", action="store_true", help="a library baseline: no import limits, never ranked")
    p.add_argument("--no-record", action="store_true", help="do not write a record under results/runs/")
    p.add_argument("--wall", type=_positive_float, help="wall-clock seconds per call (default: the problem's)")
    p.add_argument("--cpu", type=_positive_float, help="CPU seconds for the whole child (default: the problem's)")
    p.add_argument("--mem", type=_positive_int, help="address-space limit in MiB (default: the problem's)")
    p.set_defaults(func=cmd_grade)

    p = add("leaderboard", help="rebuild results/leaderboard.md and .csv from results/runs/")
    p.set_defaults(func=cmd_leaderboard)

    p = add("yardstick", help="this machine's STREAM-triad bandwidth and GEMM rate (measured once, cached)")
    p.add_argument("--threads", type=_positive_int, nargs="+", default=[1], help="thread counts (default 1)")
    p.add_argument("--refresh", action="store_true", help="measure again instead of using the cache")
    p.set_defaults(func=lambda a: __import__("harness.yardstick").yardstick.command(a))
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (UsageError, problems.ProblemError) as exc:
        err_console.print(f"[bold red]error:[/] {exc}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
