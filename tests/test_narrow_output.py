"""At 80 columns (CI logs, pipes) numbers are never cut to `0.02…`, and the record path is whole."""
from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys

import pytest
from rich.console import Console

from fake_records import record
from harness import ROOT, cli
from harness import record as records
from harness.compare import labels
from harness.render import print_grade


def _console(width: int = 80) -> Console:
    return Console(width=width, file=io.StringIO(), color_system=None, legacy_windows=False)


def _wide_record(sizes=(30_000, 3_000_000, 100_000_000), reps_vary=True) -> dict:
    rec = record("alice-with-a-long-handle", "spmm", 0.0234, sizes=sizes)
    for i, t in enumerate(rec["timings"]):
        t.update(gbytes_per_s=12.345 * (i + 1), gflops=123.4, bandwidth_pct=45.67)
        if reps_vary:
            t["reps"] = 30 + 100 * i
    rec["file"] = "solutions/alice-with-a-long-handle/spmm.py"
    return rec


def _numbers(rec: dict) -> list[str]:
    """Every number the speed table shows, as it is formatted."""
    out = []
    for t in rec["timings"]:
        out += [f"{t['size']:,}", f"{t['speedup']:.3g}x", f"{t['gbytes_per_s']:.3g}", f"{t['gflops']:.3g}",
                f"{t['bandwidth_pct']:.3g}", str(t["reps"])]
    return out


@pytest.mark.parametrize("width", [80, 100, 160])
@pytest.mark.parametrize("reps_vary", [True, False])
def test_the_grade_panel_never_cuts_a_number(width, reps_vary):
    rec = _wide_record(reps_vary=reps_vary)
    console = _console(width)
    print_grade(rec, console)
    text = console.file.getvalue()
    assert "…" not in text
    assert all(len(line) <= width for line in text.splitlines())
    shown = [n for n in _numbers(rec) if reps_vary or not n.isdigit() or "," in n or "." in n]
    missing = [n for n in shown if not re.search(rf"(?<![\d.,]){re.escape(n)}(?![\d.,])", text)]
    assert not missing, f"cut or missing at {width} columns: {missing}\n{text}"
    if not reps_vary:
        assert "30 timed calls per size" in text


def test_a_wide_console_keeps_one_table():
    console = _console(160)
    print_grade(_wide_record(), console)
    assert "(continued)" not in console.file.getvalue()


def test_leaderboard_at_80_columns_cuts_no_score(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli, "console", _console(80))
    for i, who in enumerate(["alice", "bob-the-builder", "carol"]):
        records.write(record(who, "spmv", 0.0234 * (i + 1), seed=i, rid=f"r{i}",
                             sizes=(30_000, 300_000, 3_000_000, 10_000_000)), tmp_path / "runs")
    assert cli.main(["leaderboard", "--results", str(tmp_path)]) == 0
    text = cli.console.file.getvalue()
    assert "…" not in text and "nan" not in text
    assert all(len(line) <= 80 for line in text.splitlines())
    for size in ("x@30,000", "x@10,000,000"):
        assert size in text
    assert re.search(r"\b0\.0234\b", text) and re.search(r"\b0\.0701\b", text)


def test_list_at_80_columns_keeps_slugs_and_scores(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli, "console", _console(80))
    rec = record("ada", "spmv", 0.0234567, rid="r1")
    records.write(rec, tmp_path / "runs")
    assert cli.main(["list", "--author", "ada", "--results", str(tmp_path)]) == 0
    text = cli.console.file.getvalue()
    row = next(line for line in text.splitlines() if line.startswith("│ spmv "))
    assert f"{rec['score']:.3g}x" in row and "moe-lm-speedrun" in text and "…" not in text


def test_compare_at_80_columns_labels_and_numbers(tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "console", _console(80))
    a = records.write(record("alice", "spmv", 1.2, seed=1, rid="r-first", timestamp="2026-01-02T03:04:05+00:00"),
                      tmp_path)
    b = records.write(record("alice", "spmv", 1.0, seed=2, rid="r-second", timestamp="2026-01-03T09:10:11+00:00"),
                      tmp_path)
    assert cli.main(["compare", str(a), str(b)]) == 0
    text = cli.console.file.getvalue()
    assert "…" not in text and "nan" not in text.lower()
    assert "A  solutions/alice/spmv.py (alice, 2026-01-02 03:04 UTC, record r-first)" in text
    assert "B  solutions/alice/spmv.py (alice, 2026-01-03 09:10 UTC, record r-second)" in text


def test_piped_grade_at_80_columns_prints_the_record_path_whole(tmp_path):
    """The command as CI runs it: stdout a pipe, COLUMNS=80, a long results folder."""
    results = tmp_path / ("a-results-folder-with-a-long-name-" + "x" * 40)
    env = {**os.environ, "COLUMNS": "80", "TERM": "dumb"}
    sub = ROOT / "problems" / "coo-to-csr" / "reference" / "numpy.py"
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "grade", "coo-to-csr", str(sub), "--quick",
                           "--author", "ci", "--results", str(results)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    (written,) = (results / "runs").glob("*.json")
    line = next(line for line in proc.stdout.splitlines() if line.startswith("record: "))
    assert line == f"record: {written}" or line == f"record: {written.relative_to(ROOT)}"
    body = proc.stdout.split("record: ")[0]
    assert "…" not in body and all(len(x) <= 80 for x in body.splitlines())
    rec = json.loads(written.read_text())
    assert f"{rec['score']:.3g}x" in body  # the score, whole


# -- compare: which is which, and never `nan` ------------------------------------------------
def test_labels_tell_two_records_of_one_file_apart():
    a = record("alice", "spmv", 1.0, rid="r1", timestamp="2026-01-02T03:04:05+00:00")
    b = record("bob", "spmv", 1.0, rid="r2", timestamp="2026-01-02T03:04:59+00:00")
    b["file"] = a["file"]
    la, lb = labels(a, b)
    assert la != lb and "alice" in la and "bob" in lb and "record r1" in la and "record r2" in lb
    c = record("carol", "spmv", 1.0)
    assert labels(a, c) == (a["file"], c["file"])  # different files: the files say it
    now = {"problem": "spmv", "file": "x/spmv.py"}  # graded now: no author, date or id yet
    assert labels(now, dict(now)) == ("x/spmv.py (graded now, 1st)", "x/spmv.py (graded now, 2nd)")


def test_compare_json_and_text_never_say_nan(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli, "console", _console(80))
    few = records.write(record("alice", "spmv", 1.2, seed=1, reps=3, rid="few"), tmp_path)
    other = records.write(record("bob", "spmv", 1.0, seed=2, reps=3, rid="other"), tmp_path)
    assert cli.main(["compare", str(few), str(other)]) == 0
    text = cli.console.file.getvalue()
    assert "undecided" in text and "nan" not in text.lower()
    assert cli.main(["compare", str(few), str(other), "--json"]) == 0

    def refuse(token):
        raise AssertionError(f"{token} in the JSON")

    out = json.loads(capsys.readouterr().out, parse_constant=refuse)
    assert out["ratio"] is None and out["ci"] == [None, None] and out["sizes"][0]["p_value"] is None


def test_a_scored_grade_says_its_score_once():
    rec = {"verdict": "AC", "problem": "moe-lm-speedrun", "file": "m.py", "author": "ada", "kind": "score",
           "reason": "score 2.913 bits/char", "score": 2.9131, "score_unit": "bits/char", "lower_is_better": True,
           "metrics": {"total_params": 1000}, "timings": [], "flags": []}
    out = io.StringIO()
    print_grade(rec, Console(file=out, width=100))
    text = out.getvalue()
    assert text.count("2.913") == 1 and "lower is better" in text and "total_params 1,000" in text
