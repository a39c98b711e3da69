"""Terminal output for grades with rich: the verdict, the failure, the speed table."""
from __future__ import annotations

import math

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

COLOURS = {"AC": "bold green", "WA": "bold red", "RE": "bold magenta", "TLE": "bold yellow",
           "MLE": "bold yellow", "CE": "bold red"}


def _fmt_time(seconds: float | None) -> str:
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"


def grade_panel(record: dict) -> Panel:
    verdict = record["verdict"]
    head = Text.assemble((f" {verdict} ", COLOURS.get(verdict, "bold")), "  ",
                         (f"{record['problem']}", "bold"), f"  {record['file']}  by {record['author']}")
    parts: list = [head, Text(record["reason"])]
    failure = record.get("failure") or {}
    for key, title in (("inputs", "input"), ("diff", "difference"), ("traceback", "traceback"),
                       ("output", "output of the submission")):
        if failure.get(key):
            parts.append(Text(f"\n{title}:", style="bold"))
            parts.append(Text(str(failure[key]).rstrip()))
    if record.get("timings"):
        parts.append(speed_table(record))
        parts.append(_summary_line(record))
    elif record.get("score_unit") and record.get("score") is not None:  # a scored problem
        parts.append(Text.assemble(("score ", "bold"), (f"{record['score']:.4g} {record['score_unit']}", "bold cyan"),
                                   f" ({'lower' if record.get('lower_is_better') else 'higher'} is better)"))
        if record.get("metrics"):
            parts.append(Text("  ".join(f"{k} {v:,}" if isinstance(v, int) else f"{k} {v}"
                                        for k, v in record["metrics"].items())))
    for flag in record.get("flags") or []:
        parts.append(Text(f"⚠ {flag}", style="yellow"))
    return Panel(Group(*parts), title="sparsebench grade", expand=False)


def speed_table(record: dict) -> Table:
    unit = record.get("size_unit", "size")
    table = Table(title=f"speed (threads={record.get('threads')}, plan={record.get('plan')})", title_justify="left")
    for col in (unit, "reps", "submission", "± spread", "reference", "speedup"):
        table.add_column(col, justify="right")
    names = {"gbytes_per_s": "GB/s", "gflops": "GFLOP/s", "bandwidth_pct": "% of bandwidth", "gemm_pct": "% of GEMM"}
    extra = [k for k in names if any(k in t for t in record["timings"])]
    for k in extra:
        table.add_column(names[k], justify="right")
    for t in record["timings"]:
        sp = t["speedup"]
        style = "green" if sp >= 1 else ("yellow" if sp >= 0.5 else "red")
        table.add_row(f"{t['size']:,}", str(t["reps"]), _fmt_time(t["sub_median_s"]), f"{100 * t['sub_spread']:.0f}%",
                      _fmt_time(t["ref_median_s"]), Text(f"{sp:.3g}x", style=style),
                      *[f"{t[k]:.3g}" if k in t else "-" for k in extra])
    return table


def _summary_line(record: dict) -> Text:
    slope, exp = record.get("slope"), record.get("expected_exponent")
    first = record.get("first_call_s") or {}
    score = record.get("score")
    text = Text.assemble(("score ", "bold"), (f"{score:.3g}x" if score is not None else "-", "bold cyan"),
                         " (geometric mean of speedups)   ",
                         ("slope ", "bold"), f"{slope:.2f}" if slope is not None else "-",
                         f" (expected {exp:g}, reference {record['reference_slope']:.2f})"
                         if record.get("reference_slope") is not None else "")
    if first:
        text.append("\nfirst call, JIT compile included (not ranked): " + ", ".join(
            f"{k} {_fmt_time(v)}" for k, v in first.items()))
    return text


def print_grade(record: dict, console: Console | None = None) -> None:
    (console or Console()).print(grade_panel(record))
