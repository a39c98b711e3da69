"""The grade loop (issue 13): every correctness case runs and is listed, the verdict comes before
the timing, and Ctrl-C during the timing keeps the verdict (AC, speed not measured). Real grades of
coo-to-csr's reference and of its `forgets_duplicates` example; the Ctrl-C is a KeyboardInterrupt
raised from inside the real timing phase."""
from __future__ import annotations

import io
import json

import pytest

from harness import ROOT, cli, leaderboard, problems, timing
from harness import record as records
from harness.grader import TimingProgress, grade
from harness.judge import correctness_cases
from harness.render import grade_panel
from rich.console import Console

REFERENCE = ROOT / "problems" / "coo-to-csr" / "reference" / "numpy.py"
WRONG = ROOT / "problems" / "coo-to-csr" / "examples" / "forgets_duplicates.toml"  # sums no duplicates


@pytest.fixture
def ctrl_c_after_first_size(monkeypatch):
    """timing.measure as it is, but Ctrl-C arrives with the first pair of the second size; the
    children it timed with are kept to check they were killed."""
    real = timing.measure
    children: list = []

    def measure(problem, plan, sub, ref, *, into, on_pair=None, **kw):
        children.extend([sub, ref])

        def pair(size, calls):
            if on_pair is not None:
                on_pair(size, calls)
            if into.rows:
                raise KeyboardInterrupt

        return real(problem, plan, sub, ref, into=into, on_pair=pair, **kw)

    monkeypatch.setattr(timing, "measure", measure)
    return children


def _render(rec: dict) -> str:
    console = Console(width=100, file=io.StringIO())
    console.print(grade_panel(rec))
    return console.file.getvalue()


def test_every_case_runs_and_is_listed_below_the_first_failure(tmp_path, capsys):
    p = problems.get("coo-to-csr")
    n_cases = len(correctness_cases(p, ""))
    code = cli.main(["grade", "coo-to-csr", str(WRONG), "--no-timing", "--json", "--results", str(tmp_path)])
    rec = json.loads(capsys.readouterr().out)
    assert code == 1 and rec["verdict"] == "WA"
    assert len(rec["cases"]) == n_cases, "every case ran and is in the record"
    statuses = [c["status"] for c in rec["cases"]]
    assert "pass" in statuses and statuses.count("WA") >= 2
    first = next(c for c in rec["cases"] if c["status"] != "pass")
    assert rec["reason"] == first["message"] and rec["failure"]["case"] == first["name"]

    code = cli.main(["grade", "coo-to-csr", str(WRONG), "--no-timing", "--results", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 1
    shown, listed = out.index("input:"), out.index("every case:")
    assert shown < listed, "the failing case in full first, then the list"
    assert f"{statuses.count('pass')} passed, {n_cases - statuses.count('pass')} failed" in out
    for case in rec["cases"]:
        assert case["name"] in out[listed:]

    code = cli.main(["grade", "coo-to-csr", str(WRONG), "--no-timing", "--json", "--first-failure",
                     "--results", str(tmp_path)])
    stopped = json.loads(capsys.readouterr().out)
    assert code == 1 and (stopped["verdict"], stopped["reason"]) == (rec["verdict"], rec["reason"])
    k = len(stopped["cases"])
    assert [(c["name"], c["status"]) for c in stopped["cases"]] == [(c["name"], c["status"]) for c in rec["cases"][:k]]
    assert stopped["cases"][-1]["status"] == "WA" and len(stopped["cases"]) < n_cases


def test_ctrl_c_during_timing_keeps_the_verdict_and_what_was_timed(tmp_path, ctrl_c_after_first_size):
    p = problems.get("coo-to-csr")
    events: list = []
    rec = grade(p, REFERENCE, plan="quick", on_verdict=lambda r: events.append(("verdict", r)),
                on_timing=lambda step: events.append(("timing", step)))
    # the verdict came first, before any timing, as the record stood then
    kind, early = events[0]
    assert kind == "verdict" and early["verdict"] == "AC" and early["timings"] == [] and early["score"] is None
    assert "speed not measured" not in early["reason"]
    steps = [e for k, e in events[1:] if k == "timing"]
    assert len(steps) == len(events) - 1 and all(isinstance(s, TimingProgress) for s in steps)
    done = [s for s in steps if s.finished]
    planned = len(p.bench_sizes)  # quick times every size (issue 13)
    assert [(s.size, s.index, s.sizes) for s in done] == [(p.bench_sizes[0], 0, planned)]
    assert done[0].ratio == pytest.approx(rec["timings"][0]["speedup"])
    assert all(s.pairs >= 1 and (s.ratio is None or s.ratio > 0) for s in steps)

    assert rec["verdict"] == "AC" and rec["score"] is None and rec["slope"] is None
    assert rec["interrupted"] == {"during": "timing", "sizes_timed": 1, "sizes_planned": planned}
    assert rec["reason"].endswith(f"; speed not measured (interrupted during timing, 1 of {planned} sizes timed)")
    assert [t["size"] for t in rec["timings"]] == [p.bench_sizes[0]], "the finished size is kept"
    sub, ref = ctrl_c_after_first_size
    assert sub.proc.poll() is not None and ref.proc.poll() is not None, "both children are gone"
    assert "interrupted" in _render(rec)

    # the leaderboard neither ranks it (no score) nor calls it broken
    rec = records.finish(rec, "ada")
    records.write(rec, tmp_path / "runs")
    out = leaderboard.build(tmp_path / "runs", tmp_path)
    assert out["skipped"] == [] and out["overall"].empty and out["review"].empty
    assert records.read(tmp_path / "runs" / f"{rec['id']}.json")["interrupted"]["sizes_timed"] == 1


def test_the_cli_prints_the_verdict_then_each_size_and_ctrl_c_exits_130(tmp_path, capsys,
                                                                          ctrl_c_after_first_size):
    code = cli.main(["grade", "coo-to-csr", str(REFERENCE), "--quick", "--author", "ada",
                     "--results", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == cli.INTERRUPTED == 130
    n = len(problems.get("coo-to-csr").bench_sizes)  # quick times every size (issue 13)
    verdict = out.index("correct on all")
    size = out.index(f"timed nnz=30,000 (1/{n}):")
    panel = out.index("sparsebench grade")
    assert verdict < size < panel and "Ctrl-C keeps this verdict" in out
    assert f"(2/{n})" not in out and "interrupted during timing" in out
    assert "interrupted: the verdict is recorded" in err
    (written,) = (tmp_path / "runs").glob("*.json")
    rec = records.read(written)
    assert rec["verdict"] == "AC" and rec["score"] is None and rec["interrupted"]["sizes_timed"] == 1


def test_watch_shows_the_verdict_and_ctrl_c_in_its_timing_stops_the_watch(tmp_path, capsys, monkeypatch,
                                                                           ctrl_c_after_first_size):
    from harness import watch

    file = tmp_path / "coo_to_csr.py"
    file.write_text(REFERENCE.read_text())
    polls: list = []
    monkeypatch.setattr(watch, "pause", lambda s: polls.append(s))
    assert cli.main(["grade", str(file), "--watch", "--author", "ada", "--results", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert " AC " in out and "stopped after 1 grade" in out and polls == []
    assert "quick timing" not in out and "waiting for the next save" not in out
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("cases", [
    5, "abc", None, [1, None, {"name": 3, "status": None}],
    [{"name": "ok", "status": "pass"}, {"name": "\x1b[2Jwipe", "status": "WA\x1b[31m", "message": "\x1b]0;x\x07 " * 50},
     {"name": "later", "status": "not run", "message": "not run: the child died on case 'x'"},
     {"name": "later 2", "status": "not run", "message": "not run: the child died on case 'x'"}],
])
def test_the_case_lines_render_for_any_record(cases):
    rec = {"verdict": "WA", "problem": "p", "file": "f.py", "author": "a", "reason": "r", "cases": cases}
    text = _render(rec)
    assert "\x1b" not in text and "\x07" not in text
    if isinstance(cases, list) and len(cases) == 4:
        assert "every case: 1 passed, 1 failed, 2 not run" in text
        assert text.count("the child died on case 'x'") == 1, "a run of not-run cases says why once"
        assert all(len(line) <= 100 for line in text.splitlines())
