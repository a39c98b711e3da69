"""Terminal output for grades with rich: the verdict, the failure, the speed table."""
from __future__ import annotations

import math

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.markup import escape
from rich.measure import Measurement
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
    reason = clean(record.get("reason", ""), limit=2000)
    scored = record.get("score_unit") and isinstance(record.get("score"), (int, float)) and not record.get("timings")
    parts: list = [head] if scored and reason.startswith("score ") else [head, Text(reason)]  # the score line says it
    failure = record.get("failure") if isinstance(record.get("failure"), dict) else {}
    for key, title in (("inputs", "input"), ("diff", "difference"), ("traceback", "traceback"),
                       ("output", "output of the submission")):
        if failure.get(key):
            parts.append(Text(f"\n{title}:", style="bold"))
            parts.append(Text(clean(failure[key], block=True).rstrip()))
    return Panel(Group(*parts, *case_lines(record), *_measured(record)), title="sparsebench grade", expand=False)


MAX_CASE_LINES = 60


def case_lines(record: dict) -> list:
    """Below the failing case shown in full: one line per case (pass, or the verdict and a
    short reason), so a surface failure does not hide the others. Nothing when all passed."""
    listed = record.get("cases")
    cases = [c for c in listed if isinstance(c, dict)] if isinstance(listed, list) else []  # any record renders
    if len(cases) < 2 or all(c.get("status") == "pass" for c in cases):
        return []
    statuses = [clean(c.get("status"), limit=8) for c in cases]
    passed, not_run = statuses.count("pass"), statuses.count("not run")
    failed = len(cases) - passed - not_run
    head = f"\nevery case: {passed} passed, {failed} failed" + (f", {not_run} not run" if not_run else "")
    names = [clean(c.get("name"), limit=40) for c in cases]
    width = min(28, max(len(n) for n in names))
    lines: list = [Text(head, style="bold")]
    said = None  # a run of cases not run for one reason: the reason once
    for case, status, name in list(zip(cases, statuses, names))[:MAX_CASE_LINES]:
        style = "green" if status == "pass" else ("dim" if status == "not run" else COLOURS.get(status, "bold"))
        why = "" if status == "pass" else short_reason(case.get("message"), case.get("name"))
        if status == "not run":
            why, said = ("" if why == said else why), why
        else:
            said = None
        line = Text.assemble((f"  {status:<7}", style), f" {name:<{width}}", f"  {why}" if why else "")
        line.no_wrap, line.overflow = True, "ellipsis"  # one line a case: the record has the whole reason
        lines.append(line)
    if len(cases) > MAX_CASE_LINES:
        lines.append(Text(f"  ... {len(cases) - MAX_CASE_LINES} more cases in the record", style="dim"))
    return lines


def short_reason(message: object, name: object, limit: int = 120) -> str:
    """A case's reason without what its line already says (the case's name, "not run")."""
    text = clean(message, limit=2000).split("\n")[0]
    label = f"case {clean(name, limit=200)!r}"
    for prefix in (f"{label}: ", "not run: "):
        text = text.removeprefix(prefix)
    text = text.replace(f" ({label})", "").replace(f" on {label}", "")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _measured(record: dict) -> list:
    """What a record measured: the speed table and its summary, or a scored problem's score,
    then the flags."""
    parts: list = []
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
    notes = record.get("notes")
    for note in (notes if isinstance(notes, list) else [])[:10]:
        parts.append(Text(f"note: {clean(note, limit=300)}", style="dim"))
    return parts


def speed_panel(record: dict, title: str = "quick timing") -> Panel:
    """Only what a timed AC grade measured, for `grade --watch`, which has shown the verdict already."""
    parts = _measured(record) or [Text("speed not measured")]
    return Panel(Group(*parts), title=title, expand=False)


EXTRA_COLUMNS = {"gbytes_per_s": "GB/s", "gflops": "GFLOP/s", "bandwidth_pct": "% of bandwidth",
                 "gemm_pct": "% of GEMM"}
GAP = 2  # spaces between columns


class FitTable:
    """A table that fits narrow consoles (80 columns: CI logs, pipes) without cutting a number.

    Number columns (`numeric`) are as wide as their widest value and never wrap, so a score is
    never shown as `0.02…`; headers wrap between words; text columns wrap. When even that does
    not fit, the columns after the first `keys` (e.g. the size, or rank and author) are split
    into several tables, each repeating the key columns, at the allowed `breaks` (column
    indices where a new table may start; default: anywhere)."""

    def __init__(self, title: str | None, headers: list[str], rows: list[list], *, numeric: set[int],
                 keys: int = 1, breaks: list[int] | None = None):
        self.title, self.headers, self.rows, self.numeric, self.keys = title, headers, rows, numeric, keys
        self.breaks = set(range(keys + 1, len(headers))) if breaks is None else set(breaks)

    def width(self, i: int) -> int:
        """Column i's narrowest readable width: its widest value (a number) or longest word (text,
        at most 16: longer words fold), and its header's longest word."""
        if i in self.numeric:
            cell = max((len(str(row[i])) for row in self.rows), default=1)
        else:
            cell = min(16, max((len(w) for row in self.rows for w in str(row[i]).split()), default=1))
        return max([cell, *(min(16, len(w)) for w in self.headers[i].split())])

    def natural(self, i: int) -> int:
        """Column i's width with nothing wrapped."""
        return max([len(self.headers[i]), *(len(str(row[i])) for row in self.rows)])

    def needs(self, keep: list[int]) -> int:
        return sum(self.width(i) for i in keep) + GAP * (len(keep) - 1)

    def widths(self, keep: list[int], max_width: int) -> list[int]:
        """Each column's width: its natural width when all fit, else its narrowest readable one
        plus what room is left, given left to right. Set explicitly, because rich's own
        shrinking cuts the last column first."""
        natural = [self.natural(i) for i in keep]
        if sum(natural) + GAP * (len(keep) - 1) <= max_width:
            return natural
        out = [self.width(i) for i in keep]
        room = max_width - sum(out) - GAP * (len(keep) - 1)
        for j, want in enumerate(natural):
            more = max(0, min(room, want - out[j]))
            out[j] += more
            room -= more
        return out

    def parts(self, max_width: int) -> list[list[int]]:
        """The column groups, key columns first in each: one group when everything fits."""
        every = list(range(len(self.headers)))
        if self.needs(every) <= max_width:
            return [every]
        keys, segments = every[:self.keys], []
        for i in every[self.keys:]:  # runs of columns that stay together: a break starts a new one
            if not segments or i in self.breaks:
                segments.append([])
            segments[-1].append(i)
        groups, current = [], []
        for segment in segments:
            if current and self.needs(keys + current + segment) > max_width:
                groups.append(current)
                current = []
            current += segment
        return [keys + g for g in [*groups, current]]

    def table(self, keep: list[int], title: str | None, max_width: int = 10_000) -> Table:
        widths = self.widths(keep, max_width)
        table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False,
                      collapse_padding=True, min_width=min(len(title or ""), max_width))  # the title on one line
        for i, width in zip(keep, widths):
            table.add_column(self.headers[i], justify="right" if i in self.numeric else "left", width=width,
                             overflow="fold")
        for row in self.rows:
            table.add_row(*[row[i] for i in keep])
        return table

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for n, keep in enumerate(self.parts(options.max_width)):
            if n:
                yield Text("")
            yield self.table(keep, self.title if n == 0 else f"{self.title or ''} (continued)".strip(),
                             options.max_width)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        every = list(range(len(self.headers)))
        whole = max(sum(self.natural(i) for i in every) + GAP * (len(every) - 1), len(self.title or ""))
        narrow = max(self.needs(keep) for keep in self.parts(options.max_width))
        return Measurement(min(narrow, options.max_width), min(whole, options.max_width))


def speed_table(record: dict) -> FitTable:
    """Per size: the submission's median time and spread, the reference's, the speedup, and
    GB/s, GFLOP/s, % of bandwidth where the problem has those models. The repetitions move into
    the title when every size has the same count; on a narrow console the throughput columns
    go into a second table."""
    rows = record["timings"]
    extra = [k for k in EXTRA_COLUMNS if any(t.get(k) is not None for t in rows)]
    reps = {t["reps"] for t in rows}
    same = len(reps) == 1
    title = (f"speed (threads={clean(record.get('threads'), limit=8)}, plan={clean(record.get('plan'), limit=12)}"
             + (f", {next(iter(reps))} timed calls per size)" if same else ")"))
    unit = clean(record.get("size_unit", "size"), limit=30)
    # rich reads markup in titles and headers: the record's words are escaped
    headers = [escape(unit), *([] if same else ["reps"]), "submission", "± spread", "reference",
               "speedup", *[EXTRA_COLUMNS[k] for k in extra]]
    cells = []
    for t in rows:
        sp = t["speedup"]
        style = "green" if sp >= 1 else ("yellow" if sp >= 0.5 else "red")
        cells.append([f"{t['size']:,}", *([] if same else [str(t["reps"])]), _fmt_time(t["sub_median_s"]),
                      f"{100 * t['sub_spread']:.0f}%", _fmt_time(t["ref_median_s"]), Text(f"{sp:.3g}x", style=style),
                      *[f"{t[k]:.3g}" if t.get(k) is not None else "-" for k in extra]])
    first_extra = len(headers) - len(extra)
    return FitTable(escape(title), headers, cells, numeric=set(range(len(headers))), keys=1, breaks=[first_extra])


def score_interval(record: dict) -> tuple[float, float] | None:
    """The record's score interval when it is two finite numbers with a score (older records
    have none; a hand-made one may hold anything)."""
    iv, score = record.get("score_interval"), record.get("score")
    if score is None or not isinstance(iv, (list, tuple)) or len(iv) != 2:
        return None
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in iv):
        return None
    return float(iv[0]), float(iv[1])


def _summary_line(record: dict) -> Text:
    slope, exp = record.get("slope"), record.get("expected_exponent")
    first = record.get("first_call_s") or {}
    score = record.get("score")
    stopped = record.get("interrupted") if isinstance(record.get("interrupted"), dict) else None
    interval = score_interval(record)
    text = Text.assemble(("score ", "bold"), (f"{score:.3g}x" if score is not None else "-", "bold cyan"),
                         f" [{interval[0]:.3g}, {interval[1]:.3g}]" if interval else "",
                         " (not measured: interrupted; the sizes above were timed)   " if stopped else
                         " (geometric mean of speedups" + (", 95% interval)   " if interval else ")   "),
                         ("slope ", "bold"), f"{slope:.2f}" if slope is not None else "-",
                         f" (expected {exp:g}, reference {record['reference_slope']:.2f})"
                         if record.get("reference_slope") is not None else "")
    untimed = (record.get("timer_check") or {}).get("untimed") if isinstance(record.get("timer_check"), dict) else None
    if isinstance(untimed, list) and untimed and all(isinstance(n, int) and not isinstance(n, bool) for n in untimed):
        unit = clean(record.get("size_unit", "size"), limit=30)
        text.append("\nnot timed: " + ", ".join(f"{unit}={n:,}" for n in untimed)
                    + " (would outlast this plan's time: the score covers the smaller sizes)")
    if first:
        reused = record.get("jit_reused") is True
        warm = " (the file's compiled code kept from an earlier grade of it)" if reused else ""
        text.append("\nfirst call, JIT compile included (not ranked): " + ", ".join(
            f"{k} {_fmt_time(v)}" for k, v in first.items()) + warm)
    return text


def print_grade(record: dict, console: Console | None = None) -> None:
    (console or Console()).print(grade_panel(record))
