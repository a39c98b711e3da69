"""Leaderboards from results/runs/ with pandas: best AC record per (author, problem), ranked.

Ratios, not absolute times, are ranked: the reference is timed in the same run, so a
score stays comparable across machines.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from harness import record as records
from harness.stats import geomean

RESULTS_DIR = records.RUNS_DIR.parent


def frame(records_list: list[dict]) -> pd.DataFrame:
    """One row per record, with the columns the tables need."""
    rows = []
    for r in records_list:
        speedups = {f"x@{t['size']:,}": t.get("speedup") for t in (r.get("timings") or [])}
        rows.append({"id": r["id"], "author": r["author"], "problem": r["problem"], "verdict": r["verdict"],
                     "score": r.get("score"), "slope": r.get("slope"), "timestamp": r["timestamp"],
                     "baseline": bool(r.get("baseline")), "kind": r.get("kind", "grade"), "plan": r.get("plan", "full"),
                     "flags": "; ".join(r.get("flags") or []), "file": r.get("file"),
                     "lower_is_better": bool(r.get("lower_is_better")), "score_unit": r.get("score_unit"),
                     **{f"m:{k}": v for k, v in (r.get("metrics") or {}).items()}, **speedups})
    df = pd.DataFrame(rows)
    if df.empty:
        return pd.DataFrame(columns=["id", "author", "problem", "verdict", "score", "slope", "timestamp",
                                     "baseline", "kind", "plan", "flags", "file"])
    df["score"] = pd.to_numeric(df["score"], errors="coerce")
    df["slope"] = pd.to_numeric(df["slope"], errors="coerce")
    return df


def best(df: pd.DataFrame) -> pd.DataFrame:
    """Each author's best timed AC record per problem (baselines never ranked)."""
    ranked = df[(df["kind"] == "grade") & (df["verdict"] == "AC") & ~df["baseline"] & df["score"].notna()]
    if ranked.empty:
        return ranked
    ranked = ranked.sort_values(["score", "timestamp"], ascending=[False, True])
    return ranked.drop_duplicates(["author", "problem"], keep="first")


def problem_table(best_df: pd.DataFrame, problem: str) -> pd.DataFrame:
    t = best_df[best_df["problem"] == problem].copy()
    size_cols = sorted([c for c in t.columns if c.startswith("x@") and t[c].notna().any()],
                       key=lambda c: int(c[2:].replace(",", "")))
    t.insert(0, "rank", np.arange(1, len(t) + 1))
    t["date"] = t["timestamp"].str[:10]
    return t[["rank", "author", "score", *size_cols, "slope", "date", "flags"]].reset_index(drop=True)


def overall_table(best_df: pd.DataFrame) -> pd.DataFrame:
    if best_df.empty:
        return pd.DataFrame(columns=["rank", "author", "solved", "geomean_score"])
    g = best_df.groupby("author").agg(solved=("problem", "nunique"), geomean_score=("score", geomean))
    g = g.sort_values(["solved", "geomean_score"], ascending=[False, False]).reset_index()
    g.insert(0, "rank", np.arange(1, len(g) + 1))
    return g


def scored_tables(df: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Problems graded by a measured score (records of kind "score", e.g. held-out bits/char):
    each author's best AC record, ranked in the score's own direction, with its metrics."""
    scored = df[(df["kind"] == "score") & (df["verdict"] == "AC") & ~df["baseline"] & df["score"].notna()]
    tables = {}
    for problem, rows in scored.groupby("problem"):
        lower = bool(rows["lower_is_better"].iloc[0])
        rows = rows.sort_values(["score", "timestamp"], ascending=[lower, True]).drop_duplicates("author")
        metrics = [c for c in rows.columns if c.startswith("m:") and rows[c].notna().any()]
        t = rows[["author", "score", *metrics]].rename(columns={c: c[2:] for c in metrics})
        t = t.rename(columns={"score": f"score ({rows['score_unit'].iloc[0]}, "
                                       f"{'lower' if lower else 'higher'} is better)"})
        t.insert(0, "rank", np.arange(1, len(t) + 1))
        t["date"] = rows["timestamp"].str[:10].to_numpy()
        tables[problem] = t.reset_index(drop=True)
    return tables


def build(runs_dir: Path = records.RUNS_DIR, out_dir: Path = RESULTS_DIR) -> dict:
    """Write leaderboard.md and leaderboard.csv; returns the tables and the skipped files."""
    recs, skipped = records.scan(runs_dir)
    df = frame(recs)
    top = best(df)
    problems = sorted(top["problem"].unique()) if not top.empty else []
    per_problem = {p: problem_table(top, p) for p in problems}
    overall = overall_table(top)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = ["# sparsebench leaderboard", "",
             f"{len(recs)} records, {len(top)} ranked entries. Score = geometric mean over sizes of "
             "(reference time / submission time), measured in the same run.", "", "## Overall", "",
             overall.to_markdown(index=False, floatfmt=".3g") if not overall.empty else "_no AC records yet_", ""]
    for p, table in per_problem.items():
        lines += [f"## {p}", "", table.to_markdown(index=False, floatfmt=".3g"), ""]
    scored = scored_tables(df)
    for p, table in scored.items():
        lines += [f"## {p}", "", "Ranked by a measured score, not by speed (not in the overall table).", "",
                  table.to_markdown(index=False, floatfmt=".4g"), ""]
    if skipped:
        lines += ["## Skipped files", "", *[f"- {s}" for s in skipped], ""]
    _atomic_text(out_dir / "leaderboard.md", "\n".join(lines))
    tables = {**per_problem, **{p: t.rename(columns={t.columns[2]: "score"}) for p, t in scored.items()}}
    flat = pd.concat([t.assign(problem=p) for p, t in tables.items()], ignore_index=True) \
        if tables else pd.DataFrame(columns=["problem", "rank", "author", "score"])
    _atomic_text(out_dir / "leaderboard.csv", flat.to_csv(index=False))
    return {"records": recs, "skipped": skipped, "overall": overall, "problems": per_problem, "scored": scored,
            "all": df}


def _atomic_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
