"""The yardstick table (benchmarks/yardstick_table.py, `sparsebench yardstick table`): its rows are
well-formed data, and a tiny run writes a table of the right shape. The numbers are the lead's to
measure on a quiet machine: nothing here looks at them."""
import csv
import json

import pytest

from benchmarks import yardstick_table as yt
from harness import problems
from harness.cli import main

TINY = 0.001


def test_every_row_names_a_problem_a_case_and_implementations_that_exist():
    rows = yt.load_rows()
    assert len(rows) >= 40
    for r in rows:
        p = problems.get(r.problem)
        assert r.case.startswith("bench:") or (r.problem, r.case) in yt.CASES, r
        assert r.impl in p.references or r.impl in p.baselines or r.impl == "dense", r
        assert r.peer in p.references or r.peer in p.baselines or r.peer in yt.SPECIAL, r
        assert r.threads in (1, 2) and r.peer_threads in (1, 2), r
        assert r.target is None or r.target > 0, r
        if r.peer == "triad":
            assert p.bytes_of is not None, f"{r}: a triad row needs the problem's bytes model"
        if r.peer == "dense":
            assert p.flops_of is not None and yt.make_input(p, r.case, TINY).dense is not None, r
    assert len(set(rows)) == len(rows), "a row is listed twice"


def test_the_issue_targets_are_in_the_data():
    targets = {(r.problem, r.case, r.impl, r.peer, r.threads, r.peer_threads): r.target for r in yt.load_rows()}
    for s in ("laplacian-3d", "uniform", "power-law"):
        assert targets[("spmv", s, "numba", "scipy", 1, 1)] == 1.0
        assert targets[("spmm", s, "numba", "scipy", 1, 1)] == 1.5
        assert targets[("spgemm", s, "numba", "scipy", 1, 1)] == 1.2
        for slug in ("spmv", "spmm", "spgemm"):
            assert targets[(slug, s, "numba-parallel", "numba-parallel", 2, 1)] == 1.7
    assert targets[("spmv", "laplacian-3d", "numba", "triad", 1, 1)] == 0.7
    assert targets[("coo-to-csr", "nnz-1e7", "numba", "scipy", 1, 1)] == 1.2
    assert targets[("csr-transpose", "nnz-1e5", "numba", "scipy", 1, 1)] == 1.0
    for slug in ("moe-forward", "moe-backward"):
        assert targets[(slug, "T8192", "numba", "torch", 1, 1)] == 1.2
        assert targets[(slug, "T8192", "numba", "dense", 1, 1)] == 0.9


def test_select_keeps_rows_by_problem_and_threads():
    rows = yt.load_rows()
    one = yt.select(rows, ["spmv"], [1])
    assert one and all(r.problem == "spmv" and r.threads == r.peer_threads == 1 for r in one)
    assert not any(r.threads == 2 for r in yt.select(rows, None, [1]))


def _tiny_rows(tmp_path):
    text = """rows = [
  { problem = "spmv", case = "uniform", impl = "numba", peer = "scipy", threads = 1, target = 1.0 },
  { problem = "spmv", case = "uniform", impl = "numba", peer = "triad", threads = 1, target = 0.7 },
  {problem="spmv", case="uniform", impl="numba-parallel", peer="numba-parallel", threads=2, peer_threads=1},
  { problem = "grouped-gemm", case = "balanced", impl = "numba", peer = "dense", threads = 1, target = 0.9 },
  { problem = "grouped-gemm", case = "balanced", impl = "numba", peer = "torch", threads = 1 },
  { problem = "moe-dispatch", case = "bench:4096", impl = "numba", peer = "numpy", threads = 1 },
]
"""
    path = tmp_path / "rows.toml"
    path.write_text(text)
    return path


def test_a_tiny_run_writes_markdown_csv_and_json_of_the_right_shape(tmp_path):
    out = tmp_path / "out"
    assert main(["yardstick", "table", "--rows", str(_tiny_rows(tmp_path)), "--scale", str(TINY), "--out", str(out),
                 "--min-rounds", "3", "--max-rounds", "3", "--budget", "0"]) == 0
    with open(out / "table.csv", newline="") as fh:
        lines = list(csv.DictReader(fh))
    assert [r["problem"] for r in lines] == ["spmv"] * 3 + ["grouped-gemm"] * 2 + ["moe-dispatch"]
    assert set(yt.CSV_FIELDS) == set(lines[0])
    for r in lines:
        if r["note"].startswith("not run"):  # torch is optional
            assert r["peer"] == "torch"
            continue
        assert r["rounds"] == "3" and float(r["lo"]) <= float(r["ratio"]) <= float(r["hi"])
        assert r["met"] in ("True", "False", "")
        assert (r["met"] == "") == (r["target"] == "")
    md = (out / "table.md").read_text()
    assert "| problem | input | impl | threads | vs | ratio | 95% interval |" in md
    assert md.count("\n| spmv |") == 3 and "**Targets:" in md and "sparsebench yardstick table --scale" in md
    data = json.loads((out / "table.json").read_text())
    assert len(data["rows"]) == 6
    spmv = next(t for t in data["times"] if t["problem"] == "spmv")
    assert set(spmv["times_s"]) == {"numba@1", "scipy@1", "triad@1", "numba-parallel@2", "numba-parallel@1"}
    assert all(len(v) == 3 for v in spmv["times_s"].values())


def test_an_unknown_case_is_named(tmp_path):
    path = tmp_path / "rows.toml"
    path.write_text('rows = [{ problem = "spmv", case = "nope", impl = "numba", peer = "scipy", threads = 1 }]\n')
    with pytest.raises(SystemExit, match="no case 'nope' for spmv"):
        main(["yardstick", "table", "--rows", str(path), "--scale", str(TINY), "--out", str(tmp_path / "o")])


@pytest.mark.slow
def test_the_whole_table_at_a_small_scale(tmp_path):
    """Every row of benchmarks/yardstick.toml at --scale 0.05 (the smoke run: about a minute with warm JIT caches)."""
    out = tmp_path / "out"
    assert yt.main(["--scale", "0.05", "--out", str(out), "--min-rounds", "5", "--max-rounds", "5"]) == 0
    with open(out / "table.csv", newline="") as fh:
        assert len(list(csv.DictReader(fh))) == len(yt.load_rows())
