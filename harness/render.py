"""Terminal output for grades with rich: the verdict, the failure, the speed table."""
from __future__ import annotations

import math

from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from harness.text import clean

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
    """The grade as a panel. Every string from the record is cleaned again here (harness/text.py):
    the record may come from anywhere, and rich's Text shows it literally, markup and all."""
    verdict = clean(record.get("verdict"), limit=8)
    head = Text.assemble((f" {verdict} ", COLOURS.get(verdict, "bold")), "  ",
                         (clean(record.get("problem"), limit=80), "bold"),
                         f"  {clean(record.get('file'), limit=200)}  by {clean(record.get('author'), limit=80)}")
    parts: list = [head, Text(clean(record.get("reason", ""), limit=2000))]
    failure = record.get("failure") if isinstance(record.get("failure"), dict) else {}
    for key, title in (("inputs", "input"), ("diff", "difference"), ("traceback", "traceback"),
                       ("output", "output of the submission")):
        if failure.get(key):
            parts.append(Text(f"\n{title}:", style="bold"))
            parts.append(Text(clean(failure[key], block=True).rstrip()))
    score = record.get("score")
    if record.get("timings"):
        parts.append(speed_table(record))
        parts.append(_summary_line(record))
    elif record.get("score_unit") and isinstance(score, (int, float)):  # a scored problem
        unit = clean(record["score_unit"], limit=30)
        parts.append(Text.assemble(("score ", "bold"), (f"{score:.4g} {unit}", "bold cyan"),
                                   f" ({'lower' if record.get('lower_is_better') else 'higher'} is better)"))
        metrics = record.get("metrics")
        if isinstance(metrics, dict) and metrics:
            parts.append(Text("  ".join(f"{clean(k, limit=40)} {v:,}" if isinstance(v, int) and not isinstance(v, bool)
                                        else f"{clean(k, limit=40)} {clean(v, limit=60)}"
                                        for k, v in metrics.items())))
    for flag in record.get("flags") or []:
        parts.append(Text(f"⚠ {clean(flag, limit=500)}", style="yellow"))
    return Panel(Group(*parts), title="sparsebench grade", expand=False)


def speed_table(record: dict) -> Table:
    unit = escape(clean(record.get("size_unit", "size"), limit=30))
    title = f"speed (threads={clean(record.get('threads'), limit=8)}, plan={clean(record.get('plan'), limit=12)})"
    table = Table(title=escape(title), title_justify="left")  # rich reads markup in titles and headers
    for col in (unit, "reps", "submission", "± spread", "reference", "speedup"):
        table.add_column(col, justify="right")
    extra = [k for k in ("gbytes_per_s", "gflops", "bandwidth_pct") if any(k in t for t in record["timings"])]
    for k in extra:
        table.add_column({"gbytes_per_s": "GB/s", "gflops": "GFLOP/s", "bandwidth_pct": "% of bandwidth"}[k],
                         justify="right")
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
