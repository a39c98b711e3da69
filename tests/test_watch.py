"""`grade FILE --watch`: the loop driven by a fake clock and scripted saves, then the command itself."""
from __future__ import annotations

import os
import shutil
import time

import pytest

from harness import ROOT, cli, watch

REFERENCE = ROOT / "problems" / "coo-to-csr" / "reference" / "numpy.py"


class Editor:
    """A fake clock whose sleep advances time and performs the edits scheduled by then."""

    def __init__(self, file, edits: dict[float, object]):
        self.file, self.now, self.runs, self.missing = file, 0.0, [], 0
        self.edits = sorted(edits.items())

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now = round(self.now + seconds, 6)
        while self.edits and self.edits[0][0] <= self.now:
            _, edit = self.edits.pop(0)
            edit(self.file) if callable(edit) else self.file.write_text(edit)

    def on_change(self, n: int) -> None:
        self.runs.append((n, self.now, self.file.read_text() if self.file.exists() else None))

    def on_missing(self) -> None:
        self.missing += 1

    def loop(self, **kw) -> watch.Stats:
        return watch.loop(self.file, self.on_change, on_missing=self.on_missing, clock=self.clock, sleep=self.sleep,
                          poll_s=0.1, debounce_s=0.3, **kw)


def test_runs_once_at_start_and_not_again_without_a_save(tmp_path):
    ed = Editor(tmp_path / "f.py", {})
    ed.file.write_text("v1")
    stats = ed.loop(max_polls=50)
    assert [n for n, _, _ in ed.runs] == [1] and stats.stopped == "max_polls" and stats.polls == 50


def test_a_save_grades_again_once_it_has_settled(tmp_path):
    ed = Editor(tmp_path / "f.py", {1.0: "v2"})
    ed.file.write_text("v1")
    ed.loop(max_polls=40)
    assert [(n, text) for n, _, text in ed.runs] == [(1, "v1"), (2, "v2")]
    assert 1.0 + 0.3 <= ed.runs[1][1] <= 1.0 + 0.3 + 0.2  # after the debounce, not long after


def test_a_burst_of_writes_is_one_grade_of_the_last_version(tmp_path):
    burst = {1.0 + 0.1 * i: f"partial {i}" for i in range(10)}  # an editor writing in pieces for a second
    ed = Editor(tmp_path / "f.py", {**burst, 2.0: "done"})
    ed.file.write_text("v1")
    ed.loop(max_polls=60)
    assert [text for _, _, text in ed.runs] == ["v1", "done"]


def test_the_same_bytes_saved_again_still_grade(tmp_path):
    def touch(f):
        os.utime(f, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))

    ed = Editor(tmp_path / "f.py", {1.0: touch})
    ed.file.write_text("v1")
    ed.loop(max_polls=30)
    assert len(ed.runs) == 2  # a save is a request to grade, even with no change


def test_a_file_saved_by_rename_is_waited_for(tmp_path):
    def replace(f):
        f.unlink()

    ed = Editor(tmp_path / "f.py", {1.0: replace, 1.55: "v2"})
    ed.file.write_text("v1")
    stats = ed.loop(max_polls=40)
    assert ed.missing == 1 and [text for _, _, text in ed.runs] == ["v1", "v2"] and stats.stopped == "max_polls"


def test_max_runs_and_ctrl_c_stop_the_loop(tmp_path):
    ed = Editor(tmp_path / "f.py", {1.0: "v2", 2.0: "v3"})
    ed.file.write_text("v1")
    assert ed.loop(max_runs=2).stopped == "max_runs" and len(ed.runs) == 2

    def interrupt(f):
        raise KeyboardInterrupt

    ed = Editor(tmp_path / "g.py", {0.5: interrupt})
    ed.file.write_text("v1")
    assert ed.loop().stopped == "interrupted"

    def grade_interrupted(n):
        raise KeyboardInterrupt

    stats = watch.loop(ed.file, grade_interrupted, sleep=lambda s: None)
    assert stats.stopped == "interrupted" and stats.runs == 1


# -- the command -------------------------------------------------------------------------------
def _scripted_sleep(monkeypatch, file, edits: dict[int, str], stop_after: int):
    """Real, short sleeps (the loop's clock is real); edits by poll number; Ctrl-C at the end."""
    polls = {"n": 0}

    def sleep(seconds):
        polls["n"] += 1
        if polls["n"] in edits:
            file.write_text(edits[polls["n"]])
        if polls["n"] >= stop_after:
            raise KeyboardInterrupt
        time.sleep(0.05)

    monkeypatch.setattr(watch, "pause", sleep)


def test_watch_grades_the_verdict_then_again_on_save_and_survives_a_half_written_file(tmp_path, capsys,
                                                                                       monkeypatch):
    file = tmp_path / "coo_to_csr.py"
    shutil.copy(REFERENCE, file)
    half = REFERENCE.read_text()[: len(REFERENCE.read_text()) // 2]  # a save caught half-way: no longer parses
    _scripted_sleep(monkeypatch, file, {1: half}, stop_after=40)
    code = cli.main(["grade", str(file), "--watch", "--no-timing", "--author", "ada", "--results", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0
    assert out.count("watching ") == 2 and "grade 1 at" in out and "grade 2 at" in out
    first, second = out.split("grade 2 at")
    assert " AC " in first and " CE " in second
    assert "stopped after 2 grades" in out and "nothing is recorded" in out
    assert not (tmp_path / "runs").exists()


def test_watch_shows_quick_timing_after_the_verdict(tmp_path, capsys, monkeypatch):
    file = tmp_path / "coo_to_csr.py"
    shutil.copy(REFERENCE, file)
    _scripted_sleep(monkeypatch, file, {}, stop_after=1)
    assert cli.main(["grade", str(file), "--watch", "--author", "ada"]) == 0
    out = capsys.readouterr().out
    verdict, timing = out.index(" AC "), out.index("quick timing")
    assert verdict < timing and "plan=quick" in out and "speed not measured" not in out
    assert "stopped after 1 grade" in out


@pytest.mark.parametrize("argv,message", [
    (["--all", "solutions"], "--watch follows one file"),
    (["--json"], "does not combine with --json"),
])
def test_watch_refuses_what_it_cannot_do(capsys, argv, message):
    target = [] if "--all" in argv else ["coo-to-csr", str(REFERENCE)]
    code = cli.main(["grade", *target, "--watch", *argv])
    assert code == 2 and message in capsys.readouterr().err
