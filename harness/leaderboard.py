"""Leaderboards from results/runs/ with pandas: best AC record per (author, problem), ranked.

Ratios, not absolute times, are ranked: the reference is timed in the same run, so a
score stays comparable across machines.

A record can never break ranking or the page. Every record is read field by field into a row
of known types (`row_of`); whatever in it is wrong, odd or suspicious becomes a reason to
review it. A record with a reason is never ranked: it is listed in the "needs review" table.
Two kinds of reason: a *hard* one (a score that is not a finite positive number, a field of the
wrong type, malformed timings, an id two different records claim) means the record cannot be
ranked at all; a *soft* one (an integrity flag, an implausible but finite score, an odd
timestamp) means a maintainer should look first, and `include_flagged` (the `--include-flagged`
option) ranks such records, their flags shown.
"""
from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from harness import record as records
from harness import text
from harness.stats import geomean

RESULTS_DIR = records.RUNS_DIR.parent
VERDICTS = ("AC", "WA", "RE", "TLE", "MLE", "CE")
KINDS = ("grade", "score")  # what the leaderboard ranks; other kinds (e.g. "quiz") are another producer's
PLAUSIBLE_SPEEDUP = 1e6  # a speed score above this is implausible (finite: rankable with include_flagged)
PLAUSIBLE_SCORE = 1e12  # the same for a measured score, in either direction
MAX_METRICS, MAX_SIZES = 20, 50  # columns a record may add to a table
NAME, FIELD = 80, 200  # characters shown of a name (author, problem, unit) and of a one-line field
BASE_COLUMNS = ["id", "author", "problem", "verdict", "score", "slope", "timestamp", "baseline", "kind", "plan",
                "flags", "file", "lower_is_better", "score_unit", "review", "rankable"]


# -- reading a record, whatever it holds ----------------------------------------------------
def _real(v) -> float | None:
    """A JSON number as a float (None for anything else: bool, str, null, containers, overflow)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    try:
        return float(v)
    except OverflowError:
        return math.inf if v > 0 else -math.inf


def _size(v) -> int | None:
    x = _real(v)
    return int(x) if x is not None and math.isfinite(x) and x == int(x) and 0 <= x < 1e18 else None


def _string(r: dict, key: str, hard: list[str], limit: int = NAME, default: str = "") -> str:
    v = r.get(key, default)
    if v is None:
        v = default
    if not isinstance(v, str):
        hard.append(f"{key} is not a string")
    return text.clean(v, limit=limit)


def timing_points(r: dict, needs: tuple[str, ...] = ("speedup",)) -> list[dict] | None:
    """The record's timing rows, each with its size and the `needs` fields as finite positive
    floats (the table reads the speedup; a chart also the times); None when any row is malformed
    (an empty list when there are none)."""
    rows = r.get("timings")
    if rows is None:
        return []
    if not isinstance(rows, list) or len(rows) > MAX_SIZES:
        return None
    out = []
    for t in rows:
        if not isinstance(t, dict):
            return None
        size = _size(t.get("size"))
        values = {k: _real(t.get(k)) for k in needs}
        if size is None or any(v is None or not math.isfinite(v) or v <= 0 for v in values.values()):
            return None
        out.append({"size": size, **values})
    return out


def row_of(r) -> dict:
    """One record as a row of known types, with the reasons to review it (`review`) and whether
    it may be ranked at all (`rankable`: no hard reason)."""
    if not isinstance(r, dict):
        return {**dict.fromkeys(BASE_COLUMNS, ""), "score": math.nan, "slope": math.nan, "baseline": False,
                "lower_is_better": False, "id": f"not-a-record-{id(r)}", "review": "not a JSON object",
                "rankable": False}
    hard: list[str] = []
    soft: list[str] = []
    kind = _string(r, "kind", hard, default="grade")
    if not isinstance(r.get("kind", "grade"), str):
        kind = "grade"  # a malformed kind is reviewed as a grade, not passed over as another producer's
    verdict = _string(r, "verdict", hard, limit=12)
    if verdict not in VERDICTS and kind in KINDS:
        hard.append(f"unknown verdict {verdict!r:.20}")
    raw_score = r.get("score")
    score = _real(raw_score)
    if raw_score is not None and score is None:
        hard.append("score is not a number")
    elif score is not None and not math.isfinite(score):
        hard.append(f"score is {score}")
    elif score is not None and kind == "grade" and score <= 0:
        hard.append(f"score {score:.3g} is not positive (a speedup is a ratio of times)")
    elif score is not None and kind == "grade" and score > PLAUSIBLE_SPEEDUP:
        soft.append(f"implausible score {score:.3g}x")
    elif score is not None and abs(score) > PLAUSIBLE_SCORE:
        soft.append(f"implausible score {score:.3g}")
    slope = _real(r.get("slope"))
    flags = r.get("flags") or []
    if not isinstance(flags, list):
        hard.append("flags is not a list")
        flags = [flags]
    flags = [text.clean(f, limit=FIELD) for f in flags[:20]]
    soft += [f"flag: {f}" for f in flags]
    stamp = _string(r, "timestamp", hard, limit=40)
    try:
        datetime.fromisoformat(stamp)
    except ValueError:
        soft.append(f"timestamp {stamp!r:.40} is not ISO 8601")
    points = timing_points(r) if kind == "grade" and verdict == "AC" else []  # others' timings are never shown
    if points is None:
        hard.append("malformed timings")
        points = []
    metrics = r.get("metrics") or {}
    if not isinstance(metrics, dict):
        soft.append("metrics is not a table")
        metrics = {}
    shown = {}
    for k, v in list(metrics.items())[:MAX_METRICS]:
        if isinstance(v, (bool, int, float, str)) or v is None:
            value = _real(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v
            shown[f"m:{text.clean(k, limit=40)}"] = text.clean(value, limit=NAME) if isinstance(value, str) else value
        else:
            soft.append(f"metric {text.clean(k, limit=40)!r} is not a number or a string")
    baseline = r.get("baseline") is True
    rid = _string(r, "id", hard, limit=FIELD)
    row = {"id": rid, "author": _string(r, "author", hard), "problem": _string(r, "problem", hard),
           "verdict": verdict, "score": math.nan if score is None else score,
           "slope": math.nan if slope is None or not math.isfinite(slope) else slope, "timestamp": stamp,
           "baseline": baseline, "kind": kind, "plan": _string(r, "plan", hard, default="full"),
           "flags": "; ".join(flags), "file": _string(r, "file", [], limit=FIELD),
           "lower_is_better": r.get("lower_is_better") is True,
           "score_unit": _string(r, "score_unit", [], limit=30) if r.get("score_unit") is not None else None,
           "review": "; ".join(hard + soft), "rankable": not hard, "_soft": bool(soft),
           **shown, **{f"x@{t['size']:,}": t["speedup"] for t in points}}
    return row


def frame(records_list: list[dict]) -> pd.DataFrame:
    """One row per record, with the columns the tables need; records that claim an id another
    record with different content also claims are all marked for review (which one is real?)."""
    rows = [row_of(r) for r in records_list]
    if not rows:
        return pd.DataFrame(columns=BASE_COLUMNS + ["_soft", "_i"])
    seen: dict[str, set[str]] = {}
    for r, row in zip(records_list, rows):
        seen.setdefault(row["id"], set()).add(_digest(r))
    for row in rows:
        if len(seen[row["id"]]) > 1:
            row["review"] = "; ".join(filter(None, [row["review"], "id shared by different records"]))
            row["rankable"] = False
    df = pd.DataFrame(rows)
    df["_i"] = np.arange(len(df))  # the record's position in `records_list`: ids may repeat
    for col in ("score", "slope"):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
    return df


def _digest(r) -> str:
    try:
        return json.dumps(r, sort_keys=True, default=str)
    except (TypeError, ValueError, RecursionError):
        return repr(id(r))


def _eligible(df: pd.DataFrame, kind: str, include_flagged: bool) -> pd.DataFrame:
    if df.empty:
        return df
    ok = (df["kind"] == kind) & (df["verdict"] == "AC") & ~df["baseline"].astype(bool) & df["score"].notna()
    ok &= df["rankable"].astype(bool) & np.isfinite(df["score"].to_numpy(dtype=float))
    if not include_flagged:
        ok &= df["review"] == ""
    return df[ok]


def best(df: pd.DataFrame, include_flagged: bool = False) -> pd.DataFrame:
    """Each author's best timed AC record per problem (baselines never ranked); records with a
    reason to review are left out unless `include_flagged` (and hard reasons always)."""
    ranked = _eligible(df, "grade", include_flagged)
    if ranked.empty:
        return ranked
    ranked = ranked.sort_values(["score", "timestamp"], ascending=[False, True])
    return ranked.drop_duplicates(["author", "problem"], keep="first")


def review_table(df: pd.DataFrame, include_flagged: bool = False) -> pd.DataFrame:
    """The records a maintainer should look at: every non-baseline record with a reason, newest
    first (with `include_flagged`, only those that still cannot be ranked)."""
    cols = ["author", "problem", "verdict", "score", "date", "reasons", "id"]
    if df.empty:
        return pd.DataFrame(columns=cols)
    todo = df[(df["review"] != "") & ~df["baseline"].astype(bool) & df["kind"].isin(KINDS)]
    if include_flagged:  # those it ranks are in the tables now, their flags shown; an author's
        # flagged record beaten by their own best is not ranked, so it still waits here
        ranked = pd.concat([best(df, True), *(_eligible(df, kind, True) for kind in KINDS if kind != "grade")])
        todo = todo.drop(index=ranked.index.intersection(todo.index))
    todo = todo.sort_values(["timestamp", "id"], ascending=[False, True])
    out = todo.assign(date=todo["timestamp"].str[:10], reasons=todo["review"])
    return out[cols].reset_index(drop=True)


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


def scored_tables(df: pd.DataFrame, include_flagged: bool = False) -> dict[str, pd.DataFrame]:
    """Problems graded by a measured score (records of kind "score", e.g. held-out bits/char):
    each author's best AC record, ranked in the score's own direction, with its metrics."""
    scored = _eligible(df, "score", include_flagged)
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
        if include_flagged:
            t["flags"] = rows["flags"].to_numpy()
        tables[problem] = t.reset_index(drop=True)
    return tables


# -- writing ---------------------------------------------------------------------------------
def markdown(table: pd.DataFrame, floatfmt: str) -> str:
    """A table as markdown that no cell can break: every string cell and header cleaned, `|`
    escaped, one line; numbers formatted, non-finite ones spelled out."""
    shown = table.copy()
    shown.columns = [text.cell(c, limit=60) for c in shown.columns]
    for col in shown.columns:
        if not pd.api.types.is_numeric_dtype(shown[col]):  # object or string columns (pandas 3: "str")
            shown[col] = shown[col].map(lambda v: v if _real(v) is not None else text.cell("" if v is None else v))
    return shown.to_markdown(index=False, floatfmt=floatfmt)


def _csv_safe(table: pd.DataFrame) -> pd.DataFrame:
    """String cells cleaned, and those a spreadsheet would run as a formula (= + - @) quoted."""
    out = table.copy()
    for col in out.columns:
        if not pd.api.types.is_numeric_dtype(out[col]):
            out[col] = out[col].map(lambda v: _csv_cell(v) if isinstance(v, str) else v)
    out.columns = [_csv_cell(str(c)) for c in out.columns]
    return out


def _csv_cell(v: str) -> str:
    v = text.clean(v, limit=FIELD)
    return "'" + v if v[:1] in ("=", "+", "-", "@") else v


def build(runs_dir: Path = records.RUNS_DIR, out_dir: Path = RESULTS_DIR, include_flagged: bool = False) -> dict:
    """Write leaderboard.md and leaderboard.csv; returns the tables and the skipped files."""
    recs, skipped = records.scan(runs_dir)
    skipped = [text.clean(s, limit=500) for s in skipped]
    df = frame(recs)
    top = best(df, include_flagged)
    problems = sorted(top["problem"].unique()) if not top.empty else []
    per_problem = {p: problem_table(top, p) for p in problems}
    overall = overall_table(top)
    review = review_table(df, include_flagged)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = ["# sparsebench leaderboard", "",
             f"{len(recs)} records, {len(top)} ranked entries. Score = geometric mean over sizes of "
             "(reference time / submission time), measured in the same run."
             + (" Flagged records are ranked (`--include-flagged`): check their flags." if include_flagged else ""),
             "", "## Overall", "",
             markdown(overall, ".3g") if not overall.empty else "_no AC records yet_", ""]
    for p, table in per_problem.items():
        lines += [f"## {text.cell(p)}", "", markdown(table, ".3g"), ""]
    scored = scored_tables(df, include_flagged)
    for p, table in scored.items():
        lines += [f"## {text.cell(p)}", "", "Ranked by a measured score, not by speed (not in the overall table).", "",
                  markdown(table, ".4g"), ""]
    if not review.empty:
        lines += ["## Needs review", "",
                  "Never ranked: a flag, a score that is not finite or not plausible, or a malformed record. "
                  + ("These cannot be ranked even with `--include-flagged`." if include_flagged else
                     "A maintainer who has checked the flagged ones can rank them with `--include-flagged`."),
                  "", markdown(review, ".4g"), ""]
    if skipped:
        lines += ["## Skipped files", "", *[f"- {text.cell(s, limit=500)}" for s in skipped], ""]
    _atomic_text(out_dir / "leaderboard.md", "\n".join(lines))
    tables = {**per_problem, **{p: t.rename(columns={t.columns[2]: "score"}) for p, t in scored.items()}}
    flat = pd.concat([t.assign(problem=p) for p, t in tables.items()], ignore_index=True) \
        if tables else pd.DataFrame(columns=["problem", "rank", "author", "score"])
    if not review.empty:  # below the ranked rows: no rank, the reasons in their own column
        flat = pd.concat([flat, review[["problem", "author", "score", "date", "reasons"]].assign(rank=np.nan)],
                         ignore_index=True)
    _atomic_text(out_dir / "leaderboard.csv", _csv_safe(flat).to_csv(index=False))
    return {"records": recs, "skipped": skipped, "overall": overall, "problems": per_problem, "scored": scored,
            "review": review, "all": df}


def _atomic_text(path: Path, body: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(body, encoding="utf-8")
    tmp.replace(path)
