"""How stable the yardstick table is: the same rows from several runs side by side.

    python benchmarks/yardstick_spread.py RUN_1 RUN_2 RUN_3 [--out DIR]

Each RUN is a folder written by `sparsebench yardstick table --out RUN` (its table.csv) or the
CSV itself. A row is one (problem, input, implementation, threads, peer, peer threads); for each
the script lists the ratio of every run, their median, the spread (highest minus lowest over the
median) and in how many runs the target was met (each run's own interval lower end). One run's
interval says how well that run pinned its ratio; the spread says how far a re-run on another
day moves it, which is what a reader of a committed figure needs. Writes spread.md and
spread.csv into DIR (default: the folder of the first run).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

KEY = ["problem", "case", "input", "impl", "threads", "peer", "peer_threads"]
WIDE = 0.10  # a spread above this is named in the summary


def load(runs: list[Path]) -> pd.DataFrame:
    """Every run's rows, with the run's number (1, 2, ...) in a `run` column."""
    frames = []
    for i, run in enumerate(runs, 1):
        path = run / "table.csv" if run.is_dir() else run
        if not path.is_file():
            raise SystemExit(f"{path}: no such table; write one with `sparsebench yardstick table --out {run}`")
        frame = pd.read_csv(path, keep_default_na=True)
        missing = [c for c in [*KEY, "ratio", "lo", "target", "met"] if c not in frame.columns]
        if missing:
            raise SystemExit(f"{path}: not a yardstick table (no column {', '.join(missing)})")
        frames.append(frame.assign(run=i))
    return pd.concat(frames, ignore_index=True)


def spread(table: pd.DataFrame) -> pd.DataFrame:
    """One line per row of the table: the runs' ratios (columns run_1, run_2, ...), their median,
    low, high and relative spread, the lowest interval lower end, the target and the runs that
    met it. Rows without a ratio in a run (not run there) count only where they have one."""
    measured = table.dropna(subset=["ratio"]).copy()
    measured["met"] = measured["met"].astype(str).str.lower() == "true"
    groups = measured.groupby(KEY, sort=False, dropna=False)
    out = groups.agg(runs=("run", "nunique"), median=("ratio", "median"), low=("ratio", "min"),
                     high=("ratio", "max"), lowest_lo=("lo", "min"), target=("target", "first"),
                     met_runs=("met", "sum"))
    out["spread"] = (out["high"] - out["low"]) / out["median"]
    ratios = measured.pivot_table(index=KEY, columns="run", values="ratio", aggfunc="first", dropna=False)
    ratios.columns = [f"run_{c}" for c in ratios.columns]
    out = out.join(ratios)
    out.loc[out["target"].isna(), "met_runs"] = pd.NA
    return out.reset_index()


def _ratio(value: float, peer: str) -> str:
    if pd.isna(value):
        return "-"
    return f"{100 * value:.0f}%" if peer == "triad" else f"{value:.2f}x"


def _peer(r: pd.Series) -> str:
    return r["peer"] if r["peer_threads"] == r["threads"] else f"{r['peer']} @{r['peer_threads']}t"


def markdown(lines: pd.DataFrame, runs: list[Path], n_runs: int) -> str:
    """The spread table, with a summary of how stable it is."""
    cols = [f"run_{i}" for i in range(1, n_runs + 1)]
    head = " | ".join(f"run {i}" for i in range(1, n_runs + 1))
    out = ["# How stable the yardstick table is", "",
           f"`python benchmarks/yardstick_spread.py {' '.join(map(str, runs))}`: the same rows in "
           f"{n_runs} runs of `sparsebench yardstick table`. spread = (highest - lowest ratio) / median; "
           "met = runs whose own 95% interval's lower end cleared the target.", "",
           f"| problem | input | impl | threads | vs | {head} | median | spread | target | met |",
           "|---|---|---|--:|---|" + "--:|" * n_runs + "--:|--:|--:|--:|"]
    for _, r in lines.iterrows():
        peer = _peer(r)
        target = "" if pd.isna(r["target"]) else (f"≥ {100 * r['target']:.0f}%" if r["peer"] == "triad"
                                                   else f"≥ {r['target']:g}x")
        met = "" if pd.isna(r["met_runs"]) else f"{int(r['met_runs'])} of {int(r['runs'])}"
        values = " | ".join(_ratio(r.get(c), r["peer"]) for c in cols)
        out.append(f"| {r['problem']} | {r['case']}: {r['input']} | {r['impl']} | {r['threads']} | {peer} | "
                   f"{values} | {_ratio(r['median'], r['peer'])} | {100 * r['spread']:.1f}% | {target} | {met} |")
    full = lines[lines["runs"] == n_runs]
    judged = full.dropna(subset=["target"])
    always = int((judged["met_runs"] == n_runs).sum())
    never = int((judged["met_runs"] == 0).sum())
    out += ["", f"**{len(full)} rows measured in all {n_runs} runs: spread median "
                f"{100 * full['spread'].median():.1f}%, 90th percentile {100 * full['spread'].quantile(0.9):.1f}%, "
                f"largest {100 * full['spread'].max():.1f}%.** Targets: {always} of {len(judged)} met in every "
                f"run, {never} in none, {len(judged) - always - never} in some.", ""]
    wide = full[full["spread"] > WIDE].sort_values("spread", ascending=False)
    if len(wide):
        out.append(f"Rows whose ratio moved by more than {100 * WIDE:.0f}% between runs:")
        out.append("")
        for _, r in wide.iterrows():
            out.append(f"- {r['problem']} {r['case']}, {r['impl']} @{r['threads']} vs {_peer(r)}: "
                       f"{_ratio(r['low'], r['peer'])} to {_ratio(r['high'], r['peer'])} "
                       f"({100 * r['spread']:.0f}%)")
        out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", type=Path, nargs="+", help="folders written by `sparsebench yardstick table --out`")
    ap.add_argument("--out", type=Path, help="folder for spread.md and spread.csv (default: the first run's)")
    args = ap.parse_args(argv)
    if len(args.runs) < 2:
        ap.error("a spread needs at least two runs")
    lines = spread(load(args.runs))
    out = args.out or (args.runs[0] if args.runs[0].is_dir() else args.runs[0].parent)
    out.mkdir(parents=True, exist_ok=True)
    (out / "spread.md").write_text(markdown(lines, args.runs, len(args.runs)), encoding="utf-8")
    lines.to_csv(out / "spread.csv", index=False)
    print(f"wrote {out}/spread.md and spread.csv ({len(lines)} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
