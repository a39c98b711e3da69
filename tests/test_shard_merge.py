"""Sharding the --all work list, merging shards' records, and the promise that ties them:
grading in N shards and merging gives the same leaderboard as grading in one run."""
from __future__ import annotations

import hashlib
import itertools
import json
import random
from pathlib import Path

import pytest

from harness import cli, record as records, shard
from harness.merge import merge
from tests.fake_records import record

HANDLES = ("alice", "bob", "carol", "dave", "eve")


@pytest.fixture
def solutions(tmp_path: Path) -> Path:
    """A solutions/ tree: five handles (one has a single file), and the reserved folders."""
    root = tmp_path / "solutions"
    for i, handle in enumerate(HANDLES):
        (root / handle).mkdir(parents=True)
        (root / handle / "coo_to_csr.py").write_text(f"# {handle} coo {i}\n")
        if handle != "dave":
            (root / handle / "csr_transpose.py").write_text(f"# {handle} transpose {i}\n")
        (root / handle / "notes.md").write_text("not a submission\n")
    for reserved in ("reference", "baselines", "examples", "_drafts", ".hidden"):
        (root / reserved).mkdir()
        (root / reserved / "coo_to_csr.py").write_text("# not a person's\n")
    return root


# -- the work list --------------------------------------------------------------------
def test_work_list_of_a_folder_of_handles(solutions):
    items = shard.work_list(solutions)
    assert [(w.handle, w.problem) for w in items] == [
        (h, p) for h in HANDLES for p in ("coo-to-csr", "csr-transpose") if not (h == "dave" and p == "csr-transpose")]
    assert all(w.author == w.handle for w in items), "a folder of handles records each file under its folder"


def test_work_list_of_one_persons_folder(solutions):
    items = shard.work_list(solutions / "alice")
    assert [w.problem for w in items] == ["coo-to-csr", "csr-transpose"]
    assert all(w.author is None for w in items), "one person's folder leaves the author to --author or git"


def test_work_list_needs_a_folder(tmp_path):
    with pytest.raises(shard.ShardError, match="needs a folder"):
        shard.work_list(tmp_path / "missing")


# -- shards ---------------------------------------------------------------------------
@pytest.mark.parametrize("count", [1, 2, 3, 4, 9, 12])
def test_shards_are_disjoint_and_cover_the_work(solutions, count):
    items = shard.work_list(solutions)
    parts = [shard.shard(items, i, count) for i in range(1, count + 1)]
    for a, b in itertools.combinations(parts, 2):
        assert not set(a) & set(b)
    assert sorted(itertools.chain.from_iterable(parts)) == sorted(items)
    sizes = [len(p) for p in parts]
    assert max(sizes) - min(sizes) <= 1, f"unbalanced shards {sizes}"


def test_shards_are_deterministic(solutions):
    items = shard.work_list(solutions)
    shuffled = items[:]
    random.Random(7).shuffle(shuffled)
    for i in (1, 2, 3):
        assert shard.shard(items, i, 3) == shard.shard(shuffled, i, 3) == shard.shard(shard.work_list(solutions), i, 3)


@pytest.mark.parametrize("text,expected", [("1/1", (1, 1)), ("2/4", (2, 4)), (" 4/4 ", (4, 4))])
def test_parse_shard(text, expected):
    assert shard.parse_shard(text) == expected


@pytest.mark.parametrize("text", ["0/4", "5/4", "1/0", "0/0", "-1/2", "a/b", "2", "1/2/3", "", "1.5/2"])
def test_bad_shard_values_get_one_clear_error(solutions, capsys, text):
    assert cli.main(["grade", "--all", str(solutions), f"--shard={text}", "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --shard") and ("I/N" in err or "1 <= I <= N" in err), err
    assert len(err.strip().splitlines()) == 1, err


def test_shard_and_files_from_need_all(capsys):
    assert cli.main(["grade", "--shard", "1/2", "x.py"]) == 2
    assert "add --all" in capsys.readouterr().err


def test_author_does_not_apply_to_a_folder_of_handles(solutions, capsys):
    assert cli.main(["grade", "--all", str(solutions), "--author", "mallory", "--dry-run"]) == 2
    assert "folder of handles" in capsys.readouterr().err


def test_dry_run_lists_the_shard(solutions, capsys):
    assert cli.main(["grade", "--all", str(solutions), "--shard", "2/3", "--dry-run"]) == 0
    lines = capsys.readouterr().out.splitlines()
    expected = shard.shard(shard.work_list(solutions), 2, 3)
    assert [ln.split()[0] for ln in lines] == [w.problem for w in expected]
    assert [ln.split()[-1] for ln in lines] == [w.handle for w in expected]


def test_files_from_keeps_only_named_submissions(solutions, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(solutions.parent)
    changed = tmp_path / "changed.txt"
    changed.write_text("solutions/bob/csr_transpose.py\nsolutions/bob/notes.md\n"
                       "solutions/examples/coo_to_csr.py\nsolutions/gone/coo_to_csr.py\nREADME.md\n\n")
    assert cli.main(["grade", "--all", "solutions", "--files-from", str(changed), "--dry-run"]) == 0
    out = capsys.readouterr().out.split()
    assert out == ["csr-transpose", "solutions/bob/csr_transpose.py", "bob"]


def test_an_empty_shard_is_not_an_error(solutions, tmp_path, capsys):
    changed = tmp_path / "changed.txt"
    changed.write_text("README.md\n")
    assert cli.main(["grade", "--all", str(solutions), "--files-from", str(changed), "--shard", "2/2"]) == 0
    assert "nothing to grade" in capsys.readouterr().out


# -- merge ----------------------------------------------------------------------------
def _write(folder: Path, rec: dict) -> Path:
    return records.write(rec, folder)


def test_merge_dedupes_by_id_and_reports_bad_files_by_name(tmp_path):
    a, b, out = tmp_path / "shard-1", tmp_path / "shard-2" / "runs", tmp_path / "results" / "runs"
    r1, r2, r3 = (record(h, "coo-to-csr", 1.0 + i, seed=i) for i, h in enumerate(("alice", "bob", "carol")))
    _write(a, r1), _write(a, r2), _write(b, r2), _write(b, r3)  # r2 twice: one record
    (b / "truncated.json").write_text('{"schema_version": 1, "id": ')
    (b / "no_author.json").write_text(json.dumps({k: v for k, v in r1.items() if k != "author"}))
    (b / "escape.json").write_text(json.dumps({**r1, "id": "../../etc/x"}))
    report = merge([a, b, tmp_path / "missing"], out)
    assert sorted(p.name for p in out.glob("*.json")) == sorted(f"{r['id']}.json" for r in (r1, r2, r3))
    assert report.duplicates == 1 and len(report.written) == 3 and not report.conflicts
    bad = "\n".join(report.bad)
    for name in ("truncated.json", "no_author.json", "escape.json", "missing"):
        assert name in bad, bad
    assert str(b / "truncated.json") in bad and "missing field(s) author" in bad and not report.ok


def test_merge_is_idempotent_and_flags_conflicting_ids(tmp_path):
    src, out = tmp_path / "src", tmp_path / "runs"
    rec = record("alice", "coo-to-csr", 2.0)
    _write(src, rec)
    assert merge([src], out).ok and merge([src], out).already == 1
    forged = tmp_path / "forged"
    _write(forged, {**rec, "score": 99.0})
    report = merge([forged], out)
    assert report.conflicts and "kept" in report.conflicts[0] and not report.written
    assert records.read(out / f"{rec['id']}.json")["score"] == rec["score"], "a record is never overwritten"


def test_merge_command_exit_status(tmp_path, capsys):
    src, out = tmp_path / "src", tmp_path / "runs"
    _write(src, record("alice", "coo-to-csr", 2.0))
    assert cli.main(["merge", str(src), "--out", str(out)]) == 0
    (src / "bad.json").write_text("[]")
    assert cli.main(["merge", str(src), "--out", str(out)]) == 1
    captured = capsys.readouterr()
    assert "bad.json: not a JSON object" in captured.err


# -- shard + merge == one run ---------------------------------------------------------
def _fake_grade(problem, file, **options):
    """A deterministic stand-in for the grader: the score follows from the file's bytes."""
    digest = hashlib.sha256(Path(file).read_bytes()).hexdigest()
    rec = record("x", problem.slug, 0.5 + int(digest[:4], 16) / 2**16 * 3, seed=int(digest[:6], 16),
                 verdict="WA" if "eve" in str(file) and problem.slug == "csr-transpose" else "AC")
    return {k: v for k, v in rec.items() if k not in ("schema_version", "kind", "timestamp", "author", "id")}


@pytest.fixture
def fake_grader(monkeypatch):
    import harness.grader

    finish = records.finish
    monkeypatch.setattr(harness.grader, "grade", _fake_grade)
    monkeypatch.setattr(records, "finish", lambda rec, author: {**finish(rec, author),
                                                                "timestamp": "2026-01-02T00:00:00+00:00"})


@pytest.mark.parametrize("count", [2, 3, 7])
def test_shard_then_merge_gives_the_same_leaderboard_as_one_run(solutions, tmp_path, fake_grader, count):
    one, merged = tmp_path / "one", tmp_path / "merged"
    cli.main(["grade", "--all", str(solutions), "--results", str(one)])
    for i in range(1, count + 1):
        cli.main(["grade", "--all", str(solutions), "--shard", f"{i}/{count}", "--results",
                  str(tmp_path / f"shard-{i}")])
    assert cli.main(["merge", *[str(tmp_path / f"shard-{i}") for i in range(1, count + 1)],
                     "--out", str(merged / "runs")]) == 0
    assert len(list((merged / "runs").glob("*.json"))) == len(list((one / "runs").glob("*.json"))) == 9
    for results in (one, merged):
        assert cli.main(["leaderboard", "--results", str(results)]) == 0
    for name in ("leaderboard.md", "leaderboard.csv"):
        assert (one / name).read_text() == (merged / name).read_text(), name
    # and the comparison can fail: a missing shard changes the leaderboard
    partial = tmp_path / "partial"
    merge([tmp_path / f"shard-{i}" for i in range(2, count + 1)], partial / "runs")
    cli.main(["leaderboard", "--results", str(partial)])
    assert (partial / "leaderboard.csv").read_text() != (one / "leaderboard.csv").read_text()
