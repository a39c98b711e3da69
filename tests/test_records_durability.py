"""Never lose a result: records land whole or not at all, concurrent grades both land,
readers never see a half-written record, and bad files are named and skipped."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from harness import ROOT, leaderboard
from harness import record as records

WRITER = textwrap.dedent("""
    import sys
    from harness import record
    runs, payload, limit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    for i in range(limit):
        rec = record.finish({"problem": "coo-to-csr", "verdict": "AC", "score": 1.0 + i, "sha256": "ab" * 32,
                             "flags": [], "timings": [{"size": 10, "speedup": 1.0}], "payload": "x" * payload},
                            "writer")
        record.write(rec, runs)
""")


def _writer(runs: Path, payload: int, limit: int = 10**6) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", WRITER, str(runs), str(payload), str(limit)], cwd=ROOT)


def _good(**fields) -> dict:
    return records.finish({"problem": "coo-to-csr", "verdict": "AC", "score": 2.0, "sha256": "cd" * 32,
                           "flags": [], "timings": [], **fields}, "alice")


def test_a_writer_killed_at_any_moment_leaves_whole_records_or_none(tmp_path):
    rng = random.Random(7)
    payload = 1_000_000
    for _ in range(10):
        before = len(list(tmp_path.glob("*.json")))
        proc = _writer(tmp_path, payload)
        deadline = time.monotonic() + 60  # start-up time varies with the machine's load: wait for writing to begin
        while len(list(tmp_path.glob("*.json"))) == before and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(rng.uniform(0.0, 0.3))  # then kill it at a random moment of its writing
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    found, skipped = records.scan(tmp_path)
    assert skipped == []
    assert found, "the writer never got a record out; kill it later"
    assert all(len(r["payload"]) == payload for r in found)
    finals = [p for p in tmp_path.glob("*.json") if not p.name.startswith(".tmp-")]
    assert len(finals) == len(found)


def test_two_grades_at_once_both_land(tmp_path):
    example = ROOT / "problems" / "coo-to-csr" / "examples" / "naive_dict.py"
    grades = [subprocess.Popen([sys.executable, "-m", "harness.cli", "grade", "coo-to-csr", str(example),
                                "--no-timing", "--json", "--results", str(tmp_path), "--author", who],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
              for who in ("ada", "bob")]
    for g in grades:
        _, err = g.communicate(timeout=120)
        assert g.returncode == 0, err[-2000:]
    found, skipped = records.scan(tmp_path / "runs")
    assert skipped == [] and sorted(r["author"] for r in found) == ["ada", "bob"]


def test_ids_are_unique_even_within_one_microsecond():
    assert len({_good()["id"] for _ in range(2000)}) == 2000


def test_a_record_is_never_overwritten(tmp_path):
    first = _good()
    path = records.write(first, tmp_path)
    with pytest.raises(FileExistsError):
        records.write({**first, "score": 999.0}, tmp_path)
    assert records.read(path)["score"] == 2.0
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp file left behind


def test_a_record_that_cannot_be_written_leaves_no_file(tmp_path):
    with pytest.raises(TypeError):
        records.write(_good(extra=object()), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_the_leaderboard_never_sees_a_partial_record(tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    proc = _writer(runs, payload=50_000)  # writes until killed
    try:
        deadline = time.monotonic() + 30
        while not any(runs.glob("2*.json")) and time.monotonic() < deadline:
            time.sleep(0.01)
        seen = 0
        for _ in range(5):
            out = leaderboard.build(runs, tmp_path)
            assert out["skipped"] == [], out["skipped"]
            assert len(out["records"]) >= max(seen, 1)
            seen = len(out["records"])
        assert proc.poll() is None, "the writer must still be writing while the leaderboard is built"
    finally:
        proc.kill()
        proc.wait()


def test_corrupt_and_unknown_schema_records_are_named_and_skipped(tmp_path):
    runs = tmp_path / "runs"
    records.write(_good(), runs)
    bad = {
        "garbage.json": "{not json",
        "truncated.json": '{"schema_version": 1, "id": "x", "verd',
        "future.json": '{"schema_version": 99, "id": "f"}',
        "list.json": "[1, 2]",
        "missing.json": '{"schema_version": 1, "id": "m", "author": "a"}',
        "typed.json": ('{"schema_version": 1, "kind": "grade", "id": "t", "timestamp": "2024", "author": "a", '
                       '"problem": "coo-to-csr", "verdict": "AC", "score": "high", "timings": 5}'),
        "binary.json": b"\xff\xfe\x00garbage",
    }
    for name, content in bad.items():
        (runs / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    found, skipped = records.scan(runs)
    assert [r["author"] for r in found] == ["alice"]
    assert len(skipped) == len(bad)
    for name in bad:
        assert any(message.startswith(name + ":") for message in skipped), name
    assert any("unknown schema_version 99" in m for m in skipped)
    assert any("score" in m and "timings" in m for m in skipped if m.startswith("typed.json"))
    out = leaderboard.build(runs, tmp_path)
    text = (tmp_path / "leaderboard.md").read_text()
    assert "## Skipped files" in text and all(name in text for name in bad)
    assert len(out["records"]) == 1


def test_temp_files_of_unfinished_writes_are_not_records(tmp_path):
    records.write(_good(), tmp_path)
    (tmp_path / ".tmp-abc.json").write_text('{"schema_version": 1, "id": "half')  # a writer died here
    found, skipped = records.scan(tmp_path)
    assert len(found) == 1 and skipped == []
    assert os.path.exists(tmp_path / ".tmp-abc.json")
