"""results/leaderboard.html: one self-contained static page (plots inlined as PNG).

Per problem: a table of everyone who tried it (verdict badges; the ranked ones by score),
a speedup bar chart and a log-log scaling plot with each submission's fitted slope. Above
them: the overall ranking and how many problems each person solved with speedup >= p.
The page depends only on the records, so the same records give the same page.
"""
from __future__ import annotations

import base64
import io
import math
from html import escape
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

from harness import leaderboard
from harness.text import clean, mathtext_safe

THRESHOLDS = (0.5, 1.0, 1.5, 2.0)
MAX_LINES = 8  # scaling plot: the top entries only, so it stays readable
FASTER, SLOWER, BASELINE, REFERENCE = "#2a9d8f", "#e76f51", "#8d99ae", "#264653"
PX_PER_INCH, DPI = 100, 160  # shown at 100 px an inch, drawn sharper for high-density screens
NICE_RATIOS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500)
SHOWN_RANGE = (1e-9, 1e9)  # a chart draws scores clipped to this (a flagged 1e300x must not break the axis)
PALETTE = ("#264653", "#2a9d8f", "#e9c46a", "#f4a261", "#e76f51", "#6d597a", "#457b9d", "#b5838d")


# -- data -------------------------------------------------------------------------------
def entries(df: pd.DataFrame, top: pd.DataFrame, problem: str) -> pd.DataFrame:
    """Everyone who tried `problem`: ranked entries (best timed AC) first, then the others'
    latest grade, then baselines' best; with the number of attempts."""
    graded = df[(df["problem"] == problem) & (df["kind"] == "grade")]
    is_base = graded["baseline"].astype(bool)
    people = graded[~is_base]
    attempts = people.groupby("author").size()
    ranked = top[top["problem"] == problem].assign(rank=lambda t: np.arange(1, len(t) + 1))
    others = people[~people["author"].isin(ranked["author"])].sort_values("timestamp")
    others = others.drop_duplicates("author", keep="last").sort_values(["verdict", "author"])
    base = graded[is_base & (graded["verdict"] == "AC")].sort_values(["score", "timestamp"],
                                                                              ascending=[False, True])
    base = base.drop_duplicates("file").assign(author=lambda t: t["file"].map(lambda f: Path(str(f)).stem[:80]))
    clean_base = base["rankable"].astype(bool) & (base["review"] == "") & base["score"].notna()
    rows = pd.concat([ranked.assign(charted=True), others.assign(rank=np.nan, charted=False),
                      base.assign(rank=np.nan, charted=clean_base)], ignore_index=True)
    rows["attempts"] = rows["author"].map(attempts).fillna(0).astype(int)
    rows["charted"] = rows["charted"].astype(bool)  # only ranked entries and clean baselines reach a chart
    return rows


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


def _ratio_ticks(axis, lo: float, hi: float) -> None:
    """Ticks at round ratios labelled 0.5x, 1x, 2x instead of powers of ten."""
    axis.set_major_locator(FixedLocator([v for v in NICE_RATIOS if lo <= v <= hi]))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}x"))
    axis.set_minor_formatter(NullFormatter())


def speedup_chart(rows: pd.DataFrame, problem: str) -> tuple[str, int]:
    """Horizontal bars from the reference (1x) to each entry's score, on a log axis."""
    timed = rows[rows["charted"]]
    labels = [mathtext_safe(f"{a} (baseline)" if b else a) for a, b in zip(timed["author"], timed["baseline"])]
    scores = np.clip(timed["score"].to_numpy(dtype=float), *SHOWN_RANGE)  # drawn in range, ranked as they are
    fig = Figure(figsize=(5.1, 1.1 + 0.38 * len(timed)))
    ax = fig.add_subplot()
    y = np.arange(len(timed))[::-1]
    colours = [BASELINE if b else (FASTER if s >= 1 else SLOWER) for s, b in zip(scores, timed["baseline"])]
    ax.barh(y, scores - 1.0, left=1.0, color=colours, height=0.6)
    for yi, s in zip(y, scores):
        ax.annotate(f"{s:.3g}x", (s, yi), xytext=(4 if s >= 1 else -4, 0), textcoords="offset points",
                    ha="left" if s >= 1 else "right", va="center", fontsize=8)
    ax.axvline(1.0, color=REFERENCE, lw=1)
    ax.set_xscale("log")
    lo, hi = min(scores.min(), 1.0), max(scores.max(), 1.0)
    ax.set_xlim(lo / 2.2, hi * 2.2)
    _ratio_ticks(ax.xaxis, lo / 2.2, hi * 2.2)
    ax.set_yticks(y, labels, fontsize=9)
    ax.set_xlabel("score = reference time / submission time (1x: the reference)")
    ax.set_title(f"{mathtext_safe(problem)}: speedup over the reference", fontsize=10, loc="left")
    ax.grid(axis="x", which="both", alpha=0.25)
    return _png(fig)


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
.badge{display:inline-block;min-width:34px;text-align:center;padding:1px 6px;border-radius:10px;
font-size:12px;font-weight:700;color:#fff}
.AC{background:#2a9d8f}.WA{background:#d62828}.RE{background:#7b2cbf}.TLE,.MLE{background:#e09f3e}
.CE{background:#6a040f}.base{background:#8d99ae}.untimed{background:#adb5bd}
.faster{color:#1b7f73;font-weight:600}.slower{color:#c44b2b;font-weight:600}
.charts{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}
.charts img{background:#fff;box-shadow:0 1px 2px #0001;max-width:100%;height:auto}
.note{color:#666;font-size:13px}.flag{color:#9a6700}
"""


def _cell(value, fmt: str = "{:.3g}", cls: str = "num") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return f'<td class="{cls}">–</td>'
    return f'<td class="{cls}">{escape(fmt.format(value))}</td>'


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


def _img(png: tuple[str, int], alt: str) -> str:
    b64, width = png
    return f'<img alt="{escape(alt)}" width="{width}" src="data:image/png;base64,{b64}">'


def _problem_section(problem: str, rows: pd.DataFrame, recs: list) -> str:
    anchor = f"p-{escape(problem)}"
    first = recs[rows["_i"].iloc[0]] if len(rows) else {}
    expected = _exponent(first.get("expected_exponent")) if isinstance(first, dict) else None
    out = [f'<section id="{anchor}"><h2>{escape(problem)}</h2>',
           f'<p class="lead">{len(rows[~rows["baseline"]])} people tried it; time is expected to grow as '
           f'{escape(_power(_unit(first), expected))}.</p>' if expected is not None else "",
           '<table class="problem"><thead><tr><th>rank</th><th>author</th><th>verdict</th><th>score</th>'
           '<th title="fitted exponent p in time ~ size^p">slope</th><th>attempts</th><th>graded</th><th>notes</th>'
           '</tr></thead><tbody>']
    for _, r in rows.iterrows():
        score = r["score"]
        sc = "" if score is None or math.isnan(score) else (" faster" if score >= 1 else " slower")
        rec = recs[r["_i"]]
        note = r["review"] or ("" if r["verdict"] == "AC" else (rec.get("reason", "") if isinstance(rec, dict) else ""))
        out.append("<tr>" + _cell(None if math.isnan(r["rank"]) else int(r["rank"]), "{}")
                   + f'<td>{escape(r["author"])}</td><td>{_badge(r)}</td>'
                   + _cell(score, "{:.3g}x", "num" + sc) + _cell(r["slope"], "{:.2f}")
                   + _cell(int(r["attempts"]) if not r["baseline"] else None, "{}")
                   + f'<td>{escape(r["timestamp"][:10])}</td>'
                   + f'<td class="{"flag" if r["review"] else "note"}">{escape(clean(note, limit=300))}</td></tr>')
    out.append("</tbody></table>")
    if rows["charted"].any():
        out.append('<div class="charts">' + _img(speedup_chart(rows, problem), f"{problem} speedup bar chart")
                   + _img(scaling_chart(rows, recs, problem), f"{problem} log-log scaling plot") + "</div>")
    else:
        out.append('<p class="note">No timed AC grade ranked yet: no charts.</p>')
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
           include_flagged: bool = False) -> str:
    """The whole page, as one HTML string. Any list of records renders: what cannot be ranked or
    drawn is listed under "Needs review" (harness/leaderboard.py), every string is cleaned and
    escaped, and the charts draw only ranked entries and clean baselines."""
    df = leaderboard.frame(recs)
    top = leaderboard.best(df, include_flagged)
    overall = leaderboard.overall_table(top)
    review = leaderboard.review_table(df, include_flagged)
    problems = sorted({clean(p, limit=leaderboard.NAME) for p in known_problems or []}
                      | set(df.loc[df["kind"] == "grade", "problem"]))
    authors = list(overall["author"])
    latest = max(df["timestamp"], default="") if len(df) else ""
    sections = [("overall", "overall"), ("solved", "solved ≥ p")] + [(f"p-{p}", p) for p in problems]
    if not review.empty:
        sections.append(("review", "needs review"))
    parts = [f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
             f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
             f"<title>sparsebench leaderboard</title><style>{CSS}</style></head><body><main>",
             "<h1>sparsebench leaderboard</h1>",
             f'<p class="lead">{len(recs)} records, {len(top)} ranked entries over {len(problems)} problems'
             f'{", latest graded " + escape(latest[:16].replace("T", " ")) + " UTC" if latest else ""}. '
             "Score = geometric mean over sizes of (reference time / submission time), both measured in the same "
             "run, so scores from different machines compare. Each person's best timed AC grade counts; "
             "baselines are shown, never ranked; flagged or implausible records wait under "
             + ("needs review, or are ranked with their flags shown (--include-flagged)." if include_flagged else
                "needs review.") + "</p>",
             "<nav>" + "".join(f'<a href="#{escape(a)}">{escape(t)}</a>' for a, t in sections) + "</nav>",
             '<section id="overall"><h2>Overall ranking</h2>']
    if overall.empty:
        parts.append('<p class="note">No timed AC grades yet: grade something '
                     '(<code>sparsebench grade ...</code>).</p>')
    else:
        parts.append('<table class="overall"><thead><tr><th>rank</th><th>author</th><th>solved</th>'
                     '<th>geomean score</th></tr></thead><tbody>')
        for _, r in overall.iterrows():
            parts.append(f"<tr>{_cell(int(r['rank']), '{}')}<td>{escape(str(r['author']))}</td>"
                         f"{_cell(int(r['solved']), '{} / ' + str(len(problems)))}"
                         f"{_cell(r['geomean_score'], '{:.3g}x')}</tr>")
        parts.append("</tbody></table>")
    parts.append("</section>")
    parts.append('<section id="solved"><h2>Solved with speedup ≥ p</h2>'
                 '<p class="lead">How many problems each person solved (timed AC) with a score of at least p: '
                 'p = 1 means as fast as the reference.</p>')
    if authors:
        table = solved_at(top, authors)
        parts.append('<table class="solved"><thead><tr><th>author</th>'
                     + "".join(f"<th>≥ {p:g}x</th>" for p in THRESHOLDS) + "</tr></thead><tbody>")
        for _, r in table.iterrows():
            parts.append(f"<tr><td>{escape(str(r['author']))}</td>"
                         + "".join(_cell(int(r[f'>= {p:g}x']), "{} / " + str(len(problems))) for p in THRESHOLDS)
                         + "</tr>")
        parts.append("</tbody></table>")
        parts.append('<div class="charts">' + _img(profile_chart(top, authors, len(problems)),
                                                   "problems solved with speedup at least p") + "</div>")
    parts.append("</section>")
    for p in problems:
        rows = entries(df, top, p) if (df["problem"] == p).any() else ()
        if len(rows):
            parts.append(_problem_section(p, rows, recs))
        else:
            parts.append(f'<section id="p-{escape(p)}"><h2>{escape(p)}</h2><p class="note">Nobody has tried it yet.'
                         "</p></section>")
    if not review.empty:
        parts.append(_review_section(review, include_flagged))
    if skipped:
        parts.append('<section id="skipped"><h2>Skipped files</h2><ul>'
                     + "".join(f"<li>{escape(clean(s, limit=500))}</li>" for s in skipped) + "</ul></section>")
    parts.append("</main></body></html>\n")
    return "\n".join(parts)


def write(recs: list[dict], path: Path, skipped: list[str] | None = None,
          known_problems: list[str] | None = None, include_flagged: bool = False) -> Path:
    """Write the page atomically; returns its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(render(recs, skipped, known_problems, include_flagged), encoding="utf-8")
    tmp.replace(path)
    return path
