"""results/leaderboard.html: one self-contained static page (plots inlined as PNG).

Per problem that has records: a table of everyone who tried it (verdict badges; the ranked
ones by score; when each was graded), a bar chart in which the best entry has the longest bar,
and for speed problems a log-log scaling plot with each submission's fitted slope. Problems
ranked by a measured score (held-out bits/char) get the same table and bars in their own
direction. Problems nobody tried share one line. Above them: the overall ranking and how many
problems each person solved with speedup >= p. The page depends only on the records, so the
same records give the same page.
"""
from __future__ import annotations

import base64
import io
import math
from collections.abc import Collection
from datetime import UTC, datetime
from html import escape
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator, NullFormatter

from harness import leaderboard
from harness.text import clean, mathtext_safe

THRESHOLDS = (0.5, 1.0, 1.5, 2.0)
MAX_LINES = 8  # scaling plot: the top entries only, so it stays readable
# bar colours by standing, never "red for slower": the leader, those that beat the reference,
# the rest (below the reference, or any other ranked entry of a scored problem), baselines
LEADER, FASTER, BELOW, BASELINE, REFERENCE = "#e9a820", "#2a9d8f", "#9cb8d3", "#8d99ae", "#264653"
LABEL_CHARS = 28  # a chart label longer than this is cut, its full name in the image's tooltip and the table
MAX_TICKS = 8  # an axis carries at most this many labels, so that they never overlap
MAX_METRICS = 6  # a scored problem's table shows at most this many of its records' metrics
PX_PER_INCH, DPI = 100, 160  # shown at 100 px an inch, drawn sharper for high-density screens
NICE_RATIOS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500)
SHOWN_RANGE = (1e-9, 1e9)  # a chart draws scores clipped to this (a flagged 1e300x must not break the axis)
PALETTE = ("#264653", "#2a9d8f", "#e9c46a", "#f4a261", "#e76f51", "#6d597a", "#457b9d", "#b5838d")


# -- data -------------------------------------------------------------------------------
def entries(df: pd.DataFrame, top: pd.DataFrame, problem: str, kind: str = "grade",
            lower: bool = False) -> pd.DataFrame:
    """Everyone who tried `problem` (records of `kind`): ranked entries (`top`, best first)
    first, then the others' latest grade, then baselines' best (lowest first when `lower`);
    with the number of attempts."""
    graded = df[(df["problem"] == problem) & (df["kind"] == kind)]
    is_base = graded["baseline"].astype(bool)
    people = graded[~is_base]
    attempts = people.groupby("author").size()
    ranked = top[top["problem"] == problem].assign(rank=lambda t: np.arange(1, len(t) + 1))
    others = people[~people["author"].isin(ranked["author"])].sort_values("timestamp")
    others = others.drop_duplicates("author", keep="last").sort_values(["verdict", "author"])
    base = graded[is_base & (graded["verdict"] == "AC")].sort_values(["score", "timestamp"],
                                                                              ascending=[lower, True])
    base = base.drop_duplicates("file").assign(author=lambda t: t["file"].map(lambda f: Path(str(f)).stem[:80]))
    clean_base = base["rankable"].astype(bool) & (base["review"] == "") & base["score"].notna()
    rows = pd.concat([ranked.assign(charted=True), others.assign(rank=np.nan, charted=False),
                      base.assign(rank=np.nan, charted=clean_base)], ignore_index=True)
    rows["attempts"] = rows["author"].map(attempts).fillna(0).astype(int)
    rows["charted"] = rows["charted"].astype(bool)  # only ranked entries and clean baselines reach a chart
    return rows


def scored_top(df: pd.DataFrame, problem: str, include_flagged: bool = False) -> tuple[pd.DataFrame, bool, str]:
    """A scored problem's ranking as leaderboard.scored_tables makes it (each author's best AC
    record in the score's own direction), with whether lower is better and the score's unit."""
    rows = df[(df["problem"] == problem) & (df["kind"] == "score")]
    eligible = leaderboard._eligible(rows, "score", include_flagged)
    first = eligible if len(eligible) else rows
    lower = bool(first["lower_is_better"].iloc[0]) if len(first) else False
    units = [u for u in first["score_unit"] if isinstance(u, str) and u] if len(first) else []
    ranked = eligible.sort_values(["score", "timestamp"], ascending=[lower, True]).drop_duplicates("author")
    return ranked, lower, clean(units[0], limit=30) if units else "score"


def solved_at(top: pd.DataFrame, authors: list[str]) -> pd.DataFrame:
    """Per author, how many problems they solved with score >= p, for each threshold p."""
    counts = {f">= {p:g}x": [int(((top["author"] == a) & (top["score"] >= p)).sum()) for a in authors]
              for p in THRESHOLDS}
    return pd.DataFrame({"author": authors, **counts})


# -- plots ------------------------------------------------------------------------------
def _png(fig: Figure) -> tuple[str, int]:
    """(base64 PNG, width in CSS pixels)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    data = buf.getvalue()
    width = int.from_bytes(data[16:20], "big")  # the PNG header's width, after the tight crop
    return base64.b64encode(data).decode("ascii"), round(width * PX_PER_INCH / DPI)


def nice_ratios(lo: float, hi: float, most: int = MAX_TICKS) -> list[float]:
    """Round ratios between lo and hi, at most `most` of them: 1-2-5 steps over a short range,
    powers of ten over a longer one, every other (third, ...) power over a longer still; so
    however wide the range, the labels never crowd into each other."""
    lo, hi = max(lo, SHOWN_RANGE[0] / 10), min(hi, SHOWN_RANGE[1] * 10)
    e0, e1 = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    for mantissas in ((1, 2, 5), (1,)):
        ticks = [m * 10.0 ** e for e in range(e0, e1 + 1) for m in mantissas if lo <= m * 10.0 ** e <= hi]
        if len(ticks) <= most:
            return [float(f"{t:.6g}") for t in ticks]
    step = math.ceil(len(ticks) / most)
    return [float(f"{t:.6g}") for t in ticks[::step]]


def _ratio_ticks(axis, lo: float, hi: float) -> None:
    """Ticks at round ratios labelled 0.5x, 1x, 2x instead of powers of ten, never crowded."""
    axis.set_major_locator(FixedLocator(nice_ratios(lo, hi)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}x"))
    axis.set_minor_formatter(NullFormatter())


def short_label(name, limit: int = LABEL_CHARS) -> str:
    """A chart label: cleaned, cut to `limit` characters with an ellipsis (the full name is in
    the tooltip and the table), and `$` escaped so that it cannot start mathtext."""
    s = clean(name, limit=500)
    s = s if len(s) <= limit else s[:limit - 1].rstrip() + "…"
    return s.replace("$", r"\$")


def _labels(timed: pd.DataFrame) -> list[str]:
    return [f"{a} (baseline)" if b else str(a) for a, b in zip(timed["author"], timed["baseline"])]


def bar_colours(rows: pd.DataFrame, reference: float | None) -> list[str]:
    """Colours by standing: the leader (rank 1), entries that beat the reference, the rest;
    baselines grey. `reference` None: a scored problem, no reference to beat."""
    out = []
    for rank, score, base in zip(rows["rank"], rows["score"], rows["baseline"]):
        if base:
            out.append(BASELINE)
        elif rank == 1:
            out.append(LEADER)
        elif reference is not None and score >= reference:
            out.append(FASTER)
        else:
            out.append(BELOW)
    return out


def _legend(ax, colours: list[str], reference: bool) -> None:
    """What the colours mean, below the axis label (a fixed distance, whatever the chart's height)."""
    from matplotlib.patches import Patch
    from matplotlib.transforms import ScaledTranslation

    names = {LEADER: "1st", FASTER: "beats the reference", BELOW: "below the reference" if reference else "ranked",
             BASELINE: "baseline (never ranked)"}
    shown = [c for c in (LEADER, FASTER, BELOW, BASELINE) if c in colours]
    below = ax.transAxes + ScaledTranslation(0, -0.5, ax.figure.dpi_scale_trans)
    ax.legend(handles=[Patch(color=c, label=names[c]) for c in shown], fontsize=7, frameon=False,
              loc="upper left", bbox_to_anchor=(0, 0), bbox_transform=below, ncol=2)


def speedup_figure(rows: pd.DataFrame, problem: str) -> Figure:
    """Horizontal bars from the axis's left edge to each entry's score on a log axis, so the
    fastest entry has the longest bar; the reference is the line at 1x."""
    timed = rows[rows["charted"]]
    scores = np.clip(timed["score"].to_numpy(dtype=float), *SHOWN_RANGE)  # drawn in range, ranked as they are
    fig = Figure(figsize=(5.1, 1.5 + 0.38 * len(timed)))
    ax = fig.add_subplot()
    y = np.arange(len(timed))[::-1]
    lo, hi = min(scores.min(), 1.0) / 2.2, max(scores.max(), 1.0) * 2.2
    colours = bar_colours(timed.assign(score=scores), 1.0)
    ax.barh(y, scores - lo, left=lo, color=colours, height=0.6)
    for yi, s in zip(y, scores):
        ax.annotate(f"{s:.3g}x", (s, yi), xytext=(4, 0), textcoords="offset points", ha="left", va="center",
                    fontsize=8)
    ax.axvline(1.0, color=REFERENCE, lw=1)
    ax.set_xscale("log")
    ax.set_xlim(lo, hi)
    _ratio_ticks(ax.xaxis, lo, hi)
    ax.set_yticks(y, [short_label(n) for n in _labels(timed)], fontsize=9)
    ax.set_xlabel("score = reference time / submission time (line: the reference, 1x)")
    ax.set_title(f"{short_label(problem, 40)}: speedup, longest bar = fastest", fontsize=10, loc="left")
    ax.grid(axis="x", which="both", alpha=0.25)
    _legend(ax, colours, reference=True)
    return fig


def speedup_chart(rows: pd.DataFrame, problem: str) -> tuple[str, int]:
    return _png(speedup_figure(rows, problem))


def score_figure(rows: pd.DataFrame, problem: str, unit: str, lower: bool) -> Figure:
    """A scored problem's bars, the best entry longest whichever way the score runs: for a
    lower-is-better score (bits/char) the axis is reversed, bars grow from the worst end."""
    timed = rows[rows["charted"]]
    limit = leaderboard.PLAUSIBLE_SCORE
    scores = np.clip(timed["score"].to_numpy(dtype=float), -limit, limit)
    fig = Figure(figsize=(5.1, 1.5 + 0.38 * len(timed)))
    ax = fig.add_subplot()
    y = np.arange(len(timed))[::-1]
    best, worst = (scores.min(), scores.max()) if lower else (scores.max(), scores.min())
    span = max(abs(worst - best), 0.05 * max(abs(best), abs(worst)), 1e-9)
    base = worst + 0.25 * span if lower else worst - 0.25 * span  # where every bar starts: past the worst
    far = best - 0.08 * span if lower else best + 0.08 * span
    colours = bar_colours(timed, None)
    ax.barh(y, scores - base, left=base, color=colours, height=0.6)
    for yi, s in zip(y, scores):
        ax.annotate(f"{s:.4g}", (s, yi), xytext=(4, 0), textcoords="offset points", ha="left", va="center",
                    fontsize=8)
    ax.set_xlim(base, far - (0.12 * span if lower else -0.12 * span))  # reversed when lower is better
    ax.xaxis.set_major_locator(MaxNLocator(nbins=MAX_TICKS - 2))
    ax.set_yticks(y, [short_label(n) for n in _labels(timed)], fontsize=9)
    way = "lower is better, axis reversed" if lower else "higher is better"
    ax.set_xlabel(f"{short_label(unit, 30)} ({way}): longest bar = best")
    ax.set_title(f"{short_label(problem, 40)}: {short_label(unit, 30)}", fontsize=10, loc="left")
    ax.grid(axis="x", alpha=0.25)
    _legend(ax, colours, reference=False)
    return fig


def scaling_chart(rows: pd.DataFrame, recs: list, problem: str) -> tuple[str, int]:
    """Time against size on log-log axes for the top entries, each labelled with its slope."""
    fig = Figure(figsize=(5.1, 3.8))
    ax = fig.add_subplot()
    points = {i: _points(recs[i]) for i in rows.loc[rows["charted"], "_i"]}
    timed = rows[rows["charted"] & rows["_i"].map(lambda i: bool(points.get(i)))].head(MAX_LINES)
    if timed.empty:
        ax.text(0.5, 0.5, "no timings to plot", ha="center", va="center", transform=ax.transAxes)
        return _png(fig)
    first = recs[timed["_i"].iloc[0]]
    unit, expected = _unit(first), _exponent(first.get("expected_exponent"))
    ref = [(t["measure"], t["ref_median_s"]) for t in points[timed["_i"].iloc[0]]]
    for i, (ri, author, baseline, slope) in enumerate(zip(timed["_i"], timed["author"], timed["baseline"],
                                                          timed["slope"])):
        mine = [(t["measure"], t["sub_median_s"]) for t in points[ri]]
        name = mathtext_safe(f"{author}{' (baseline)' if baseline else ''}")
        label = f"{name}: slope {slope:.2f}" if math.isfinite(slope) else name
        ax.plot(*zip(*mine), marker="o", ms=4, lw=1.5, label=label, color=PALETTE[i % len(PALETTE)],
                ls=":" if baseline else "-")
    ref_slope = leaderboard._real(first.get("reference_slope"))
    ax.plot(*zip(*ref), marker="s", ms=3, lw=1, color="black", ls="--",
            label=f"reference: slope {ref_slope:.2f}" if ref_slope is not None and math.isfinite(ref_slope)
            else "reference")
    if expected is not None and len(ref) >= 2:
        xs = np.array([ref[0][0], ref[-1][0]], dtype=float)
        mid_x, mid_y = ref[len(ref) // 2]
        ax.plot(xs, mid_y * (xs / mid_x) ** expected, color="grey", lw=0.8, alpha=0.6,
                label=f"expected: {mathtext_safe(_power(unit, expected))}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(f"size ({mathtext_safe(unit)}, log scale)")
    ax.set_ylabel("median time per call, s (log)")
    ax.set_title(f"{mathtext_safe(problem)}: how time grows with size", fontsize=10, loc="left")
    ax.grid(which="both", alpha=0.25)
    ax.legend(fontsize=7.5, loc="upper left", frameon=False)
    return _png(fig)


def _points(rec: dict) -> list[dict]:
    """A record's timing rows with every time a chart reads (finite, positive), or []."""
    return leaderboard.timing_points(rec, ("measure", "sub_median_s", "ref_median_s", "speedup")) or []


def _unit(rec: dict) -> str:
    return clean(rec.get("size_unit") or "size", limit=30) if isinstance(rec, dict) else "size"


def _exponent(value) -> float | None:
    """The problem's expected exponent as a record states it, when it is a sane one."""
    x = leaderboard._real(value)
    return x if x is not None and 0 < x <= 10 else None


def _power(unit: str, exponent: float) -> str:
    base = unit if unit.isidentifier() else f"({unit})"
    return f"{base}^{exponent:g}"


def profile_chart(top: pd.DataFrame, authors: list[str], n_problems: int) -> tuple[str, int]:
    """Problems solved with score >= p, as p grows: one step line per person."""
    fig = Figure(figsize=(5.1, 3.2))
    ax = fig.add_subplot()
    scores = np.clip(top["score"].to_numpy(dtype=float), *SHOWN_RANGE)
    hi = max(4.0, float(scores.max()) * 1.5) if scores.size else 4.0
    ps = np.geomspace(0.05, hi, 400)
    for i, a in enumerate(authors[:MAX_LINES]):
        mine = top.loc[top["author"] == a, "score"].to_numpy(dtype=float)
        ax.step(ps, [(mine >= p).sum() for p in ps], where="post", lw=1.6, label=mathtext_safe(a),
                color=PALETTE[i % len(PALETTE)])
    for p in THRESHOLDS:
        ax.axvline(p, color="grey", lw=0.7, ls=":")
    ax.set_xscale("log")
    _ratio_ticks(ax.xaxis, ps[0], ps[-1])
    ax.set_ylim(-0.1, n_problems + 0.3)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("speedup p (log scale)")
    ax.set_ylabel("problems solved with score ≥ p")
    ax.set_title("solved with speedup ≥ p", fontsize=10, loc="left")
    ax.grid(alpha=0.25)
    ax.legend(fontsize=8, frameon=False)
    return _png(fig)


# -- HTML -------------------------------------------------------------------------------
CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2d35;background:#f7f7f5}
main{max-width:1120px;margin:0 auto;padding:24px}
h1{margin:0 0 4px;font-size:28px}h2{margin:32px 0 8px;border-bottom:2px solid #264653;padding-bottom:4px}
.lead{color:#555;margin:0 0 12px}nav a{margin-right:14px}
table{border-collapse:collapse;background:#fff;margin:8px 0 12px;box-shadow:0 1px 2px #0001}
th,td{padding:5px 10px;border-bottom:1px solid #e4e4e4;text-align:left;vertical-align:top}
th{background:#264653;color:#fff;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
td.when{white-space:nowrap;font-variant-numeric:tabular-nums}
.badge{display:inline-block;min-width:34px;text-align:center;padding:1px 6px;border-radius:10px;
font-size:12px;font-weight:700;color:#fff}
.AC{background:#2a9d8f}.WA{background:#d62828}.RE{background:#7b2cbf}.TLE,.MLE{background:#e09f3e}
.CE{background:#6a040f}.base{background:#8d99ae}.untimed{background:#adb5bd}
.beats{color:#1b7f73;font-weight:600}.leader{font-weight:700}
.charts{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}
.charts img{background:#fff;box-shadow:0 1px 2px #0001;max-width:100%;height:auto}
.note{color:#666;font-size:13px}.flag{color:#9a6700}
"""


def plural(n: int, one: str, many: str | None = None) -> str:
    """'1 entry', '2 entries', '0 entries'."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def when(stamp) -> str:
    """A record's timestamp as the date and time graded, in UTC ('2026-01-02 03:04 UTC'); a
    timestamp that does not parse is shown cleaned, as it is."""
    s = clean(stamp, limit=40)
    try:
        t = datetime.fromisoformat(s)
    except ValueError:
        return s
    if t.tzinfo is not None:
        t = t.astimezone(UTC)
    return t.strftime("%Y-%m-%d %H:%M") + (" UTC" if t.tzinfo is not None else "")


def _cell(value, fmt: str = "{:.3g}", cls: str = "num") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return f'<td class="{cls}">–</td>'
    return f'<td class="{cls}">{escape(fmt.format(value))}</td>'


def _metric_cell(value) -> str:
    if isinstance(value, str):
        return f"<td>{escape(clean(value, limit=80))}</td>"
    x = leaderboard._real(value)
    if x is None or not math.isfinite(x):
        return '<td class="num">–</td>'
    shown = f"{int(x):,}" if x == int(x) and abs(x) < 1e15 else f"{x:.4g}"
    return f'<td class="num">{escape(shown)}</td>'


def _badge(row) -> str:
    if row["baseline"]:
        return '<span class="badge base" title="library baseline: shown, never ranked">base</span>'
    verdict = str(row["verdict"])
    if verdict == "AC" and (row["score"] is None or math.isnan(row["score"])):
        return ('<span class="badge AC" title="correct; speed not measured (graded without timing, '
                'or its timing was interrupted)">AC</span> '
                '<span class="note">untimed</span>')
    kind = verdict if verdict in leaderboard.VERDICTS else "untimed"  # a class the page knows, whatever it says
    return f'<span class="badge {kind}">{escape(verdict)}</span>'


def _img(png: tuple[str, int], alt: str, title: str = "") -> str:
    b64, width = png
    tip = f' title="{escape(title)}"' if title else ""
    return f'<img alt="{escape(alt)}"{tip} width="{width}" src="data:image/png;base64,{b64}">'


def _tooltip(rows: pd.DataFrame, fmt: str) -> str:
    """The charted entries' full names and scores, in the chart's order: the image's tooltip."""
    timed = rows[rows["charted"]]
    return "; ".join(f"{clean(n, limit=200)}: {fmt.format(s)}" for n, s in zip(_labels(timed), timed["score"]))


def _people(rows: pd.DataFrame) -> str:
    return plural(int((~rows["baseline"].astype(bool)).sum()), "person", "people") + " tried it"


def _table(rows: pd.DataFrame, recs: list, score_head: str, score_fmt: str, reference: float | None,
           metrics: list[str]) -> list[str]:
    """The problem's table: one row per entry, ranked ones first, with when each was graded."""
    slope = ('<th title="fitted exponent p in time ~ size^p">slope</th>' if reference is not None else "")
    out = ['<table class="problem"><thead><tr><th>rank</th><th>author</th><th>verdict</th>'
           f'<th>{escape(score_head)}</th>{slope}'
           + "".join(f"<th>{escape(m[2:])}</th>" for m in metrics)
           + '<th>attempts</th><th>graded (UTC)</th><th>notes</th></tr></thead><tbody>']
    for _, r in rows.iterrows():
        score, rank = r["score"], r["rank"]
        cls = "num"
        if not math.isnan(rank) and rank == 1:
            cls += " leader"
        if reference is not None and not (score is None or math.isnan(score)) and score >= reference \
                and not r["baseline"]:
            cls += " beats"
        rec = recs[r["_i"]]
        note = r["review"] or ("" if r["verdict"] == "AC" else (rec.get("reason", "") if isinstance(rec, dict) else ""))
        attempts = int(r["attempts"]) if not r["baseline"] else None
        out.append("<tr>" + _cell(None if math.isnan(rank) else int(rank), "{}")
                   + f'<td>{escape(clean(r["author"], limit=200))}</td><td>{_badge(r)}</td>'
                   + _cell(score, score_fmt, cls)
                   + (_cell(r["slope"], "{:.2f}") if reference is not None else "")
                   + "".join(_metric_cell(r.get(m)) for m in metrics)
                   + _cell(attempts, "{}")
                   + f'<td class="when" title="{escape(clean(r["timestamp"], limit=40))}">'
                   + f'{escape(when(r["timestamp"]))}</td>'
                   + f'<td class="{"flag" if r["review"] else "note"}">{escape(clean(note, limit=300))}</td></tr>')
    out.append("</tbody></table>")
    return out


def _speed_part(problem: str, rows: pd.DataFrame, recs: list) -> list[str]:
    first = recs[rows["_i"].iloc[0]]
    expected = _exponent(first.get("expected_exponent")) if isinstance(first, dict) else None
    grows = (f"; time is expected to grow as {escape(_power(_unit(first), expected))}" if expected is not None else "")
    out = [f'<p class="lead">{_people(rows)}{grows}. Score: speedup over the reference (1x); '
           "the longest bar is the fastest entry.</p>"]
    out += _table(rows, recs, "score", "{:.3g}x", 1.0, [])
    if rows["charted"].any():
        out.append('<div class="charts">'
                   + _img(speedup_chart(rows, problem), f"{problem} speedup bar chart", _tooltip(rows, "{:.3g}x"))
                   + _img(scaling_chart(rows, recs, problem), f"{problem} log-log scaling plot") + "</div>")
    else:
        out.append('<p class="note">No timed AC grade ranked yet: no charts.</p>')
    return out


def _scored_part(problem: str, df: pd.DataFrame, recs: list, include_flagged: bool) -> list[str]:
    top, lower, unit = scored_top(df, problem, include_flagged)
    rows = entries(df, top.assign(rank=np.arange(1, len(top) + 1)), problem, "score", lower)
    metrics = [c for c in rows.columns if c.startswith("m:") and rows[c].notna().any()][:MAX_METRICS]
    way = "lower" if lower else "higher"
    out = [f'<p class="lead">{_people(rows)}. Ranked by a measured score, {escape(unit)} ({way} is better), '
           "not by speed, so not in the overall ranking; the longest bar is the best entry.</p>"]
    out += _table(rows, recs, f"{unit} ({way} is better)", "{:.4g}", None, metrics)
    if rows["charted"].any():
        out.append('<div class="charts">'
                   + _img(_png(score_figure(rows, problem, unit, lower)), f"{problem} {unit} bar chart",
                          _tooltip(rows, "{:.4g}")) + "</div>")
    else:
        out.append('<p class="note">No AC score ranked yet: no chart.</p>')
    return out


def _problem_section(problem: str, df: pd.DataFrame, top: pd.DataFrame, recs: list,
                     include_flagged: bool) -> str:
    """A problem's section: its speed part (records of kind "grade") and its scored part
    (kind "score"), whichever it has records for."""
    out = [f'<section id="p-{escape(problem)}"><h2>{escape(problem)}</h2>']
    mine = df[df["problem"] == problem]
    if (mine["kind"] == "grade").any():
        out += _speed_part(problem, entries(df, top, problem), recs)
    if (mine["kind"] == "score").any():
        out += _scored_part(problem, df, recs, include_flagged)
    out.append("</section>")
    return "\n".join(out)


def _review_section(review: pd.DataFrame, include_flagged: bool) -> str:
    """The records a maintainer should look at before they count (leaderboard.review_table)."""
    lead = ("Never ranked: a flag, a score that is not finite or not plausible, or a malformed record. "
            + ("These cannot be ranked even with <code>--include-flagged</code>." if include_flagged else
               "A maintainer who has checked the flagged ones can rank them with "
               "<code>sparsebench leaderboard --include-flagged</code>."))
    out = ['<section id="review"><h2>Needs review</h2>', f'<p class="lead">{lead}</p>',
           '<table class="review"><thead><tr><th>author</th><th>problem</th><th>verdict</th><th>score</th>'
           '<th>graded</th><th>why</th><th>record</th></tr></thead><tbody>']
    for _, r in review.iterrows():
        verdict = r["verdict"] if r["verdict"] in leaderboard.VERDICTS else "untimed"
        score = r["score"]
        shown = f"{score:.4g}" if isinstance(score, float) and not math.isnan(score) else "–"
        out.append(f'<tr><td>{escape(r["author"])}</td><td>{escape(r["problem"])}</td>'
                   f'<td><span class="badge {verdict}">{escape(r["verdict"])}</span></td>'
                   f'<td class="num">{escape(shown)}</td><td>{escape(r["date"])}</td>'
                   f'<td class="flag">{escape(clean(r["reasons"], limit=500))}</td>'
                   f'<td class="note">{escape(clean(r["id"], limit=120))}</td></tr>')
    out.append("</tbody></table></section>")
    return "\n".join(out)


def render(recs: list[dict], skipped: list[str] | None = None, known_problems: list[str] | None = None,
           include_flagged: bool = False, scored_problems: Collection[str] = ()) -> str:
    """The whole page, as one HTML string. Any list of records renders: what cannot be ranked or
    drawn is listed under "Needs review" (harness/leaderboard.py), every string is cleaned and
    escaped, and the charts draw only ranked entries and clean baselines. `known_problems`: every
    problem there is (those without records share one "not tried yet" line); `scored_problems`:
    those of them ranked by a measured score, not by speed (not counted in "solved")."""
    df = leaderboard.frame(recs)
    top = leaderboard.best(df, include_flagged)
    overall = leaderboard.overall_table(top)
    review = leaderboard.review_table(df, include_flagged)
    known = {clean(p, limit=leaderboard.NAME) for p in known_problems or []}
    scored = {clean(p, limit=leaderboard.NAME) for p in scored_problems}
    tried = sorted(set(df.loc[df["kind"].isin(leaderboard.KINDS), "problem"]))
    untried = sorted(known - set(tried))
    speed = (known - scored) | set(df.loc[df["kind"] == "grade", "problem"])
    n_speed = len(speed)
    authors = list(overall["author"])
    latest = max(df["timestamp"], default="") if len(df) else ""
    sections = [("overall", "overall"), ("solved", "solved ≥ p")] + [(f"p-{p}", p) for p in tried]
    if untried:
        sections.append(("not-tried", "not tried yet"))
    if not review.empty:
        sections.append(("review", "needs review"))
    every = sorted(known | set(tried))
    parts = [f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
             f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
             f"<title>sparsebench leaderboard</title><style>{CSS}</style></head><body><main>",
             "<h1>sparsebench leaderboard</h1>",
             f'<p class="lead">{plural(len(recs), "record")}, {plural(len(top), "ranked entry", "ranked entries")}; '
             f'{plural(len(tried), "problem")} of {len(every):,} tried'
             f'{", latest graded " + escape(when(latest)) if latest else ""}. '
             "Score = geometric mean over sizes of (reference time / submission time), both measured in the same "
             "run, so scores from different machines compare; a problem ranked by a measured score (such as "
             "held-out bits/char) says so in its section. Each person's best AC grade counts; "
             "baselines are shown, never ranked; flagged or implausible records wait under "
             + ("needs review, or are ranked with their flags shown (--include-flagged)." if include_flagged else
                "needs review.") + "</p>",
             "<nav>" + "".join(f'<a href="#{escape(a)}">{escape(t)}</a>' for a, t in sections) + "</nav>",
             '<section id="overall"><h2>Overall ranking</h2>']
    if overall.empty:
        parts.append('<p class="note">No timed AC grades yet: grade something '
                     '(<code>sparsebench grade ...</code>).</p>')
    else:
        parts.append(f'<p class="lead">Speed problems only ({plural(n_speed, "problem")}).</p>'
                     '<table class="overall"><thead><tr><th>rank</th><th>author</th><th>solved</th>'
                     '<th>geomean score</th></tr></thead><tbody>')
        for _, r in overall.iterrows():
            parts.append(f"<tr>{_cell(int(r['rank']), '{}')}<td>{escape(str(r['author']))}</td>"
                         f"{_cell(int(r['solved']), '{} / ' + str(n_speed))}"
                         f"{_cell(r['geomean_score'], '{:.3g}x')}</tr>")
        parts.append("</tbody></table>")
    parts.append("</section>")
    parts.append('<section id="solved"><h2>Solved with speedup ≥ p</h2>'
                 '<p class="lead">How many speed problems each person solved (timed AC) with a score of at least p: '
                 'p = 1 means as fast as the reference.</p>')
    if authors:
        table = solved_at(top, authors)
        parts.append('<table class="solved"><thead><tr><th>author</th>'
                     + "".join(f"<th>≥ {p:g}x</th>" for p in THRESHOLDS) + "</tr></thead><tbody>")
        for _, r in table.iterrows():
            parts.append(f"<tr><td>{escape(str(r['author']))}</td>"
                         + "".join(_cell(int(r[f'>= {p:g}x']), "{} / " + str(n_speed)) for p in THRESHOLDS)
                         + "</tr>")
        parts.append("</tbody></table>")
        parts.append('<div class="charts">' + _img(profile_chart(top, authors, n_speed),
                                                   "problems solved with speedup at least p") + "</div>")
    parts.append("</section>")
    for p in tried:
        parts.append(_problem_section(p, df, top, recs, include_flagged))
    if untried:
        parts.append('<section id="not-tried"><p class="note not-tried">Not tried yet: '
                     + ", ".join(f'<span id="p-{escape(p)}">{escape(p)}</span>' for p in untried) + ".</p></section>")
    if not review.empty:
        parts.append(_review_section(review, include_flagged))
    if skipped:
        parts.append('<section id="skipped"><h2>Skipped files</h2><ul>'
                     + "".join(f"<li>{escape(clean(s, limit=500))}</li>" for s in skipped) + "</ul></section>")
    parts.append("</main></body></html>\n")
    return "\n".join(parts)


def write(recs: list[dict], path: Path, skipped: list[str] | None = None,
          known_problems: list[str] | None = None, include_flagged: bool = False,
          scored_problems: Collection[str] = ()) -> Path:
    """Write the page atomically; returns its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(render(recs, skipped, known_problems, include_flagged, scored_problems), encoding="utf-8")
    tmp.replace(path)
    return path
