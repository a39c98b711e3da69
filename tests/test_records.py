"""Records are written atomically and read back; the leaderboard ranks best AC per author."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from harness import leaderboard, record


def fake(author: str, problem: str, score: float | None, verdict: str = "AC", **extra) -> dict:
    rec = {"problem": problem, "file": f"solutions/{author}/{problem}.py",
           "sha256": f"{abs(hash((author, problem, score))):064x}"[:64],
           "verdict": verdict, "reason": "", "score": score, "slope": 1.0, "plan": "full", "baseline": False,
           "timings": [{"size": 1000, "speedup": score or 0.0}, {"size": 10000, "speedup": score or 0.0}], **extra}
    return record.finish(rec, author)


def test_write_then_read_roundtrip(tmp_path):
    rec = fake("ada", "coo-to-csr", 1.5)
    path = record.write(rec, tmp_path)
    assert path.name == f"{rec['id']}.json"
    assert record.read(path) == json.loads(json.dumps(rec))
    assert not list(tmp_path.glob(".tmp-*")), "no temporary file is left behind"


def test_ids_are_path_safe_and_unique():
    a, b = fake("Ada Lovelace/..", "coo-to-csr", 1.0), fake("Ada Lovelace/..", "coo-to-csr", 1.0)
    assert a["id"] != b["id"] and "/" not in a["id"] and " " not in a["id"]


def test_corrupt_and_foreign_files_are_reported_and_skipped(tmp_path):
    record.write(fake("ada", "coo-to-csr", 1.5), tmp_path)
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "foreign.json").write_text(json.dumps({"hello": "world"}))
    (tmp_path / "future.json").write_text(json.dumps({"schema_version": 99}))
    (tmp_path / ".tmp-inflight.json").write_text("{")  # a record being written right now
    recs, skipped = record.scan(tmp_path)
    assert len(recs) == 1
    assert sorted(s.split(":")[0] for s in skipped) == ["broken.json", "foreign.json", "future.json"]
    assert any("schema_version 99" in s for s in skipped)


def test_leaderboard_keeps_best_ac_per_author_and_ranks(tmp_path):
    runs = tmp_path / "runs"
    for author, problem, score, verdict in [
        ("ada", "coo-to-csr", 1.2, "AC"), ("ada", "coo-to-csr", 2.0, "AC"), ("ada", "coo-to-csr", None, "WA"),
        ("bob", "coo-to-csr", 3.0, "AC"), ("bob", "csr-transpose", 0.5, "AC"), ("cy", "coo-to-csr", 9.0, "WA"),
    ]:
        record.write(fake(author, problem, score, verdict), runs)
    record.write(fake("lib", "coo-to-csr", 50.0, baseline=True), runs)
    (runs / "junk.json").write_text("[]")
    out = leaderboard.build(runs, tmp_path)
    table = out["problems"]["coo-to-csr"]
    assert list(table["author"]) == ["bob", "ada"] and list(table["rank"]) == [1, 2]
    assert table.loc[1, "score"] == pytest.approx(2.0)
    assert "x@1,000" in table.columns
    overall = out["overall"].set_index("author")
    assert overall.loc["bob", "solved"] == 2
    assert overall.loc["bob", "geomean_score"] == pytest.approx((3.0 * 0.5) ** 0.5)
    assert out["skipped"] and "junk.json" in out["skipped"][0]
    md = (tmp_path / "leaderboard.md").read_text()
    assert "## coo-to-csr" in md and "junk.json" in md and "lib" not in md.split("## Skipped")[0]
    csv = pd.read_csv(tmp_path / "leaderboard.csv")
    assert set(csv["problem"]) == {"coo-to-csr", "csr-transpose"}


def test_empty_results_still_write_a_leaderboard(tmp_path):
    out = leaderboard.build(tmp_path / "runs", tmp_path)
    assert out["overall"].empty and (tmp_path / "leaderboard.md").is_file() and (tmp_path / "leaderboard.csv").is_file()


def test_safe_handle():
    assert record.safe_handle("  Ada Lovelace ") == "ada-lovelace"
    assert record.safe_handle("../../etc") == "etc"
    assert record.safe_handle("") == "anonymous"
