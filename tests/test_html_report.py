"""The leaderboard page: its parts are there (parsed here), and it renders in headless
Chromium (a screenshot, and the DOM Chromium built)."""
from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from harness import cli, html_report, record as records
from tests.fake_records import record

PROBLEMS = ["coo-to-csr", "csr-transpose"]


def demo_records() -> list[dict]:
    """Three people over two problems, with failures, an untimed AC and a baseline."""
    specs = [("alice", "coo-to-csr", dict(speedup=2.4)), ("alice", "coo-to-csr", dict(verdict="WA")),
             ("bob", "coo-to-csr", dict(speedup=1.1, exponent=1.05)),
             ("carol", "coo-to-csr", dict(speedup=0.35, exponent=1.4)),
             ("dave", "coo-to-csr", dict(verdict="TLE")), ("erin", "coo-to-csr", dict(speedup=None)),
             ("ci", "coo-to-csr", dict(speedup=0.8, baseline=True)), ("alice", "csr-transpose", dict(speedup=1.6)),
             ("bob", "csr-transpose", dict(speedup=0.6)), ("carol", "csr-transpose", dict(verdict="RE")),
             ("<b>mallory</b>", "csr-transpose", dict(verdict="CE"))]
    return [record(a, p, seed=i, rid=f"demo-{i}", **kw) for i, (a, p, kw) in enumerate(specs)]


class Page(HTMLParser):
    """What the tests look for: tables by class, cells, images, badges, section ids."""

    def __init__(self, text: str):
        super().__init__()
        self.tables: list[str] = []
        self.rows: dict[str, list[list[str]]] = {}
        self.images: list[dict] = []
        self.badges: list[str] = []
        self.sections: list[str] = []
        self._table = self._cell = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self._table = a.get("class", "")
            self.tables.append(self._table)
        elif tag == "tr" and self._table is not None:
            self.rows.setdefault(self._table, []).append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = ""
        elif tag == "img":
            self.images.append(a)
        elif tag == "span" and "badge" in a.get("class", ""):
            self.badges.append(a["class"].split()[1])
        elif tag == "section":
            self.sections.append(a.get("id", ""))

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[self._table][-1].append(self._cell.strip())
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


@pytest.fixture(scope="module")
def page_text() -> str:
    return html_report.render(demo_records(), ["broken.json: not readable JSON"], PROBLEMS)


def test_page_has_every_part(page_text):
    page = Page(page_text)
    assert page.tables.count("overall") == 1 and page.tables.count("solved") == 1
    assert page.tables.count("problem") == len(PROBLEMS)
    assert {"overall", "solved", "p-coo-to-csr", "p-csr-transpose", "skipped"} <= set(page.sections)
    # a profile chart, then a bar chart and a scaling plot per problem
    assert len(page.images) == 1 + 2 * len(PROBLEMS)
    for img in page.images:
        assert img["alt"] and int(img["width"]) > 200
        png = base64.b64decode(img["src"].removeprefix("data:image/png;base64,"))
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(set(page.badges)) == ["AC", "CE", "RE", "TLE", "base"]


def test_solved_at_p_table_counts(page_text):
    rows = Page(page_text).rows["solved"]
    assert rows[0] == ["author", "≥ 0.5x", "≥ 1x", "≥ 1.5x", "≥ 2x"]
    assert rows[1:] == [["alice", "2 / 2", "2 / 2", "2 / 2", "1 / 2"],
                        ["bob", "2 / 2", "1 / 2", "0 / 2", "0 / 2"],
                        ["carol", "0 / 2", "0 / 2", "0 / 2", "0 / 2"]]


def test_problem_table_ranks_then_lists_the_rest(page_text):
    rows = Page(page_text).rows["problem"][:7]  # the first problem's table
    assert [r[1] for r in rows[1:]] == ["alice", "bob", "carol", "erin", "dave", "coo_to_csr"]
    assert [r[0] for r in rows[1:]] == ["1", "2", "3", "–", "–", "–"]
    assert rows[1][5] == "2", "alice's WA attempt counts as an attempt"


def test_page_escapes_what_records_say(page_text):
    assert "<b>mallory</b>" not in page_text and "&lt;b&gt;mallory&lt;/b&gt;" in page_text


def test_page_depends_only_on_the_records():
    recs = demo_records()
    assert html_report.render(recs, [], PROBLEMS) == html_report.render(list(reversed(recs)), [], PROBLEMS)


def test_page_with_no_records():
    """Problems nobody tried share one line (each name keeps its anchor), not a section each:
    a deliberate change for issue 13."""
    body = html_report.render([], [], PROBLEMS)
    page = Page(body)
    assert page.images == [] and "problem" not in page.tables
    assert "not-tried" in page.sections and not {"p-coo-to-csr", "p-csr-transpose"} & set(page.sections)
    assert 'Not tried yet: <span id="p-coo-to-csr">coo-to-csr</span>, <span id="p-csr-transpose">' in body


def test_an_author_whose_name_starts_with_an_underscore_is_in_the_legend():
    """matplotlib leaves a "_..." label out of a legend (and warns when none is left)."""
    import warnings

    recs = [record("_ada", "coo-to-csr", 1.5, seed=1, rid="u-1")]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        body = html_report.render(recs, [], PROBLEMS)
    assert "_ada" in body


def test_leaderboard_html_command(tmp_path):
    for rec in demo_records():
        records.write(rec, tmp_path / "runs")
    assert cli.main(["leaderboard", "--results", str(tmp_path), "--html"]) == 0
    assert {p.name for p in tmp_path.iterdir()} >= {"leaderboard.md", "leaderboard.csv", "leaderboard.html"}
    assert len(Page((tmp_path / "leaderboard.html").read_text()).images) == 5


# -- in a real browser ------------------------------------------------------------------
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"]


def _chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp / f"profile-{len(list(tmp.glob('profile-*')))}"  # a fresh one per run
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                          text=True, timeout=180, stdin=subprocess.DEVNULL)


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install -y chromium)")
def test_page_renders_in_headless_chromium(tmp_path):
    from matplotlib.image import imread

    for rec in demo_records():
        records.write(rec, tmp_path / "runs")
    assert cli.main(["leaderboard", "--results", str(tmp_path), "--html"]) == 0
    url = (tmp_path / "leaderboard.html").as_uri()

    dom = _chromium(tmp_path, url, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    page = Page(dom.stdout)
    assert page.tables.count("problem") == 2 and "overall" in page.tables and "solved" in page.tables
    assert len(page.images) == 5 and all(i["src"].startswith("data:image/png;base64,") for i in page.images)

    shot = tmp_path / "leaderboard.png"
    run = _chromium(tmp_path, "--window-size=1200,2600", f"--screenshot={shot}", url)
    assert run.returncode == 0 and shot.is_file(), run.stderr[-2000:]
    pixels = (imread(shot)[..., :3] * 255).round().astype(int)
    assert pixels.shape[:2] == (2600, 1200)

    def count(hex_colour: str) -> int:
        rgb = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)])
        return int((np.abs(pixels - rgb).max(axis=-1) <= 6).sum())

    # the leader's and the below-the-reference bars exist only inside the bar charts: seen, so they were drawn
    assert count(html_report.LEADER) > 2000 and count(html_report.BELOW) > 1000, "the chart images did not render"
    assert count("#264653") > 5000, "the table headers did not render"
    keep = os.environ.get("SPARSEBENCH_ARTIFACTS")
    if keep:  # CI keeps the screenshot as an artifact (never in git)
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / "leaderboard.png")
        shutil.copy(tmp_path / "leaderboard.html", Path(keep) / "leaderboard.html")


# -- issue 13: bars, colours, every problem, labels, plurals, dates ----------------------
def _drawn(fig):
    """The figure drawn (so text has a size) and its renderer."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def _bars(fig) -> list[tuple[float, float, str]]:
    """Each bar's on-screen (left, right) edge in pixels and its colour, top bar first."""
    from matplotlib.colors import to_hex

    ax = fig.axes[0]
    _drawn(fig)
    out = []
    for patch in ax.patches:
        box = patch.get_window_extent()
        out.append((box.y0, box.x0, box.x1, to_hex(patch.get_facecolor())))
    return [(x0, x1, c) for _, x0, x1, c in sorted(out, reverse=True)]


def _demo_rows(problem: str = "coo-to-csr"):
    df = html_report.leaderboard.frame(demo_records())
    return html_report.entries(df, html_report.leaderboard.best(df), problem)


def test_the_fastest_entry_has_the_longest_bar_and_all_bars_share_an_origin():
    rows = _demo_rows()
    charted = rows[rows["charted"]]
    bars = _bars(html_report.speedup_figure(rows, "coo-to-csr"))
    assert len(bars) == len(charted) == 4  # alice 2.4x, bob 1.1x, carol 0.35x, the 0.8x baseline
    lefts = {round(x0, 3) for x0, _, _ in bars}
    assert len(lefts) == 1, "every bar starts at the same place"
    lengths = [x1 - x0 for x0, x1, _ in bars]
    order = np.argsort(-charted["score"].to_numpy())
    assert list(np.argsort([-v for v in lengths])) == list(order), "longer bar, faster entry"
    assert min(lengths) > 5  # carol's 0.35x bar is short but drawn


def test_bar_colours_go_by_rank_and_the_reference_never_red_for_slower():
    rows = _demo_rows()
    colours = [c for _, _, c in _bars(html_report.speedup_figure(rows, "coo-to-csr"))]
    # alice leads; bob beats the reference; carol is below it; the baseline is grey
    assert colours == [html_report.LEADER, html_report.FASTER, html_report.BELOW, html_report.BASELINE]
    assert not hasattr(html_report, "SLOWER")
    body = html_report.render(demo_records(), [], PROBLEMS)
    assert "slower" not in body and 'class="num leader beats"' in body


def speedrun_records() -> list[dict]:
    """Scored records of moe-lm-speedrun (held-out bits/char, lower is better)."""
    out = []
    for i, (author, bpc, verdict) in enumerate([("alice", 2.61, "AC"), ("bob", 2.43, "AC"), ("alice", 2.55, "AC"),
                                                ("carol", 3.05, "AC"), ("dave", None, "TLE")]):
        rec = record(author, "moe-lm-speedrun", None, verdict=verdict, seed=100 + i, rid=f"run-{i}")
        rec.update(kind="score", score=bpc, score_unit="bits/char", lower_is_better=True, timings=[],
                   metrics={"total_params": 120_000 + i, "active_params": 40_000, "floor_bpc": 2.31})
        out.append(rec)
    return out


def test_a_scored_problem_is_shown_with_its_unit_and_the_best_is_the_longest_bar():
    known = [*PROBLEMS, "moe-lm-speedrun"]
    body = html_report.render(demo_records() + speedrun_records(), [], known, scored_problems=["moe-lm-speedrun"])
    page = Page(body)
    assert "p-moe-lm-speedrun" in page.sections and 'href="#p-moe-lm-speedrun"' in body
    table = page.rows["problem"][-5:]  # the last table: the speedrun's header and its four people
    assert table[0][:4] == ["rank", "author", "verdict", "bits/char (lower is better)"]
    assert "total_params" in table[0] and "floor_bpc" in table[0]
    assert [(r[0], r[1], r[3]) for r in table[1:]] == [("1", "bob", "2.43"), ("2", "alice", "2.55"),
                                                       ("3", "carol", "3.05"), ("–", "dave", "–")]
    assert "120,002" in table[2]  # alice's best run's declared parameters, as a person reads them
    assert any(i["alt"] == "moe-lm-speedrun bits/char bar chart" for i in page.images)
    # a scored problem is not a speed problem: "solved" still counts out of the two speed problems
    assert page.rows["solved"][1][1] == "2 / 2"

    df = html_report.leaderboard.frame(speedrun_records())
    top, lower, unit = html_report.scored_top(df, "moe-lm-speedrun")
    assert lower and unit == "bits/char" and list(top["author"]) == ["bob", "alice", "carol"]
    rows = html_report.entries(df, top.assign(rank=np.arange(1, 4)), "moe-lm-speedrun", "score", lower)
    bars = _bars(html_report.score_figure(rows, "moe-lm-speedrun", unit, lower))
    lengths = [x1 - x0 for x0, x1, _ in bars]
    assert lengths[0] > lengths[1] > lengths[2] > 0, "lowest bits/char, longest bar"
    assert len({round(x0, 3) for x0, _, _ in bars}) == 1
    assert [c for _, _, c in bars] == [html_report.LEADER, html_report.BELOW, html_report.BELOW]


def test_every_problem_with_records_has_a_section_and_the_rest_share_one_line():
    known = [*PROBLEMS, "moe-lm-speedrun", "spmv", "spgemm"]
    body = html_report.render(demo_records() + speedrun_records(), [], known, scored_problems=["moe-lm-speedrun"])
    page = Page(body)
    assert {"p-coo-to-csr", "p-csr-transpose", "p-moe-lm-speedrun", "not-tried"} <= set(page.sections)
    assert "p-spmv" not in page.sections and "p-spgemm" not in page.sections
    assert body.count("Not tried yet:") == 1
    assert 'Not tried yet: <span id="p-spgemm">spgemm</span>, <span id="p-spmv">spmv</span>.' in body
    assert "3 problems of 5 tried" in body
    assert page.rows["overall"][1][2] == "2 / 4", "alice solved 2 of the 4 speed problems"


def test_the_leaderboard_command_shows_the_speedrun_and_every_problem(tmp_path):
    from harness import problems

    for rec in demo_records() + speedrun_records():
        records.write(rec, tmp_path / "runs")
    assert cli.main(["leaderboard", "--results", str(tmp_path), "--html"]) == 0
    body = (tmp_path / "leaderboard.html").read_text()
    page = Page(body)
    assert "p-moe-lm-speedrun" in page.sections
    untried = sorted(set(problems.slugs()) - {"coo-to-csr", "csr-transpose", "moe-lm-speedrun"})
    assert "Not tried yet: " + ", ".join(f'<span id="p-{p}">{p}</span>' for p in untried) + "." in body
    assert f"3 problems of {len(problems.slugs())} tried" in body


def _overlaps(boxes) -> list[tuple[int, int]]:
    return [(i, j) for i in range(len(boxes)) for j in range(i + 1, len(boxes)) if boxes[i].overlaps(boxes[j])]


@pytest.mark.parametrize("scores", [[2.4, 1.1, 0.35], [1e4, 3.0, 1e-4], [1.02, 1.01, 0.99], [5e8, 2e-8, 1.0]])
def test_axis_labels_never_overlap_and_long_names_are_cut_with_the_full_name_in_a_tooltip(scores):
    long = "a-very-long-author-name-from-the-ci-matrix-run-"  # under the 80 characters a record keeps
    names = [long + "x", long + "y", "bob"]
    recs = [record(n, "coo-to-csr", s, seed=i, rid=f"l-{i}") for i, (n, s) in enumerate(zip(names, scores))]
    df = html_report.leaderboard.frame(recs)
    rows = html_report.entries(df, html_report.leaderboard.best(df), "coo-to-csr")
    fig = html_report.speedup_figure(rows, "coo-to-csr")
    renderer = _drawn(fig)
    ax = fig.axes[0]
    for labels in (ax.get_xticklabels(), ax.get_yticklabels()):
        shown = [t for t in labels if t.get_visible() and t.get_text()]
        assert len(shown) >= 2
        assert not _overlaps([t.get_window_extent(renderer) for t in shown]), [t.get_text() for t in shown]
    ylabels = [t.get_text() for t in ax.get_yticklabels()]
    assert all(len(t) <= html_report.LABEL_CHARS for t in ylabels) and any(t.endswith("…") for t in ylabels)
    body = html_report.render(recs, [], PROBLEMS)
    tips = [img.get("title", "") for img in Page(body).images]
    assert any(f"{long}y: " in t for t in tips), "the full names are in the chart's tooltip"


def test_nice_ratios_stay_few_and_round():
    for lo, hi in [(0.4, 3.0), (0.01, 100.0), (1e-9, 1e9), (0.97, 1.03), (1e-5, 1e7)]:
        ticks = html_report.nice_ratios(lo, hi)
        assert 1 <= len(ticks) <= html_report.MAX_TICKS and all(lo <= t <= hi for t in ticks)
        assert all(f"{t:.0e}"[0] in "125" for t in ticks)
    assert html_report.nice_ratios(0.4, 3.0) == [0.5, 1.0, 2.0]


def test_counts_read_in_the_singular_and_the_plural():
    assert [html_report.plural(n, "entry", "entries") for n in (0, 1, 2)] == ["0 entries", "1 entry", "2 entries"]
    one = html_report.render([record("alice", "coo-to-csr", 1.5, rid="one")], [], PROBLEMS)
    assert "1 record, 1 ranked entry; 1 problem of 2 tried" in one and "1 person tried it" in one
    many = html_report.render(demo_records(), [], PROBLEMS)
    assert "11 records, 5 ranked entries; 2 problems of 2 tried" in many
    assert "5 people tried it" in many and "4 people tried it" in many
    for wrong in ("1 records", "1 people", "entrys", "1 problems", "1 ranked entries"):
        assert not re.search(rf"(?<![\d,]){wrong}", one + many), wrong


def test_each_entry_shows_the_date_and_time_it_was_graded():
    recs = [record("alice", "coo-to-csr", 1.5, rid="t-1", timestamp="2026-03-04T05:06:07+00:00"),
            record("bob", "coo-to-csr", 1.2, rid="t-2", timestamp="2026-03-04T23:30:00-02:00"),
            record("carol", "coo-to-csr", verdict="WA", rid="t-3", timestamp="not a time")]
    page = Page(html_report.render(recs, [], PROBLEMS))
    table = page.rows["problem"]
    column = table[0].index("graded (UTC)")
    assert [r[column] for r in table[1:]] == ["2026-03-04 05:06 UTC", "2026-03-05 01:30 UTC", "not a time"]
    assert html_report.when("2026-01-02T03:04:05+00:00") == "2026-01-02 03:04 UTC"
