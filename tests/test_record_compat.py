"""Records written by an older grader still load: tests/data/record_v1_before_split.json is a
real record (`sparsebench grade coo-to-csr problems/coo-to-csr/reference/numpy.py`, full timing)
written before the grader was split into judge/timing/integrity/scored modules. It must go
through the leaderboard, merge and compare unchanged, and a grade today has the same fields."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness import leaderboard, problems, record as records
from harness.compare import compare
from harness.grader import grade
from harness.merge import merge

OLD = Path(__file__).parent / "data" / "record_v1_before_split.json"
STAMPED = ("schema_version", "kind", "timestamp", "author", "id")  # added by record.finish, not the grader


def _runs_with_the_old_record(tmp_path: Path) -> Path:
    runs = tmp_path / "runs"
    runs.mkdir()
    shutil.copy(OLD, runs / OLD.name)
    return runs


def test_the_old_record_reads_and_ranks(tmp_path):
    old = records.read(OLD)
    assert old["verdict"] == "AC" and old["score"] > 0 and old["timer_check"]["calls"] > 0
    out = leaderboard.build(_runs_with_the_old_record(tmp_path), tmp_path)
    assert out["skipped"] == []
    table = out["problems"]["coo-to-csr"]
    assert list(table["author"]) == ["old-grader"] and table.loc[0, "score"] == pytest.approx(old["score"])
    assert "x@30,000" in table.columns


def test_the_old_record_merges_unchanged(tmp_path):
    report = merge([_runs_with_the_old_record(tmp_path)], tmp_path / "merged")
    assert report.ok and len(report.written) == 1
    assert records.read(report.written[0]) == json.loads(OLD.read_text())


def test_the_old_record_compares(tmp_path):
    old = records.read(OLD)
    result = compare(old, old)
    assert result.verdict == "tie" and result.ratio == pytest.approx(1.0)
    assert [s.size for s in result.sizes] == [t["size"] for t in old["timings"]]


def test_a_grade_today_has_the_fields_of_the_old_record():
    old = records.read(OLD)
    p = problems.get("coo-to-csr")
    new = grade(p, p.reference_path(p.oracle), plan="quick")
    assert new["verdict"] == "AC", new["reason"]
    # adaptive timing (issue 13) added one field, the score's interval, right after the score
    expected = [k for k in old if k not in STAMPED]
    expected.insert(expected.index("score") + 1, "score_interval")
    assert list(new) == expected, "the same fields, in the same order, and the score's interval"
    # issue 12 added fields inside some of them (sandbox.level, seeds.timed, the rows' batch and
    # windows, timer_check.replayed): the old ones are all there, in their order, new ones added
    assert _in_order(list(old["timings"][0]), list(new["timings"][0]))
    assert list(new["cases"][0]) == list(old["cases"][0])
    for key in ("seeds", "sandbox", "timer_check", "first_call_s", "limits"):
        assert _in_order(list(old[key]), list(new[key])), key


def _in_order(old: list[str], new: list[str]) -> bool:
    """Every old key is in `new`, in the same relative order."""
    at = iter(new)
    return all(k in at for k in old)
