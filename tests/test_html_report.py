"""The leaderboard page: its parts are there (parsed here), and it renders in headless
Chromium (a screenshot, and the DOM Chromium built)."""
from __future__ import annotations

import base64
import os
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
    page = Page(html_report.render([], [], PROBLEMS))
    assert page.images == [] and "problem" not in page.tables
    assert {"p-coo-to-csr", "p-csr-transpose"} <= set(page.sections)


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

    # the "slower" bars exist only inside the speedup charts: seen, so the images were drawn
    assert count(html_report.SLOWER) > 2000, "the chart images did not render"
    assert count("#264653") > 5000, "the table headers did not render"
    keep = os.environ.get("SPARSEBENCH_ARTIFACTS")
    if keep:  # CI keeps the screenshot as an artifact (never in git)
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / "leaderboard.png")
        shutil.copy(tmp_path / "leaderboard.html", Path(keep) / "leaderboard.html")
