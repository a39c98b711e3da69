"""The yardstick table's spread across runs (benchmarks/yardstick_spread.py), on hand-made tables."""
from __future__ import annotations

import pandas as pd
import pytest

from benchmarks import yardstick_spread as ys

HEADER = "problem,case,input,impl,threads,peer,peer_threads,ratio,lo,hi,target,met,rounds,note\n"


def _run(tmp_path, name: str, rows: list[str]):
    folder = tmp_path / name
    folder.mkdir()
    (folder / "table.csv").write_text(HEADER + "".join(r + "\n" for r in rows))
    return folder


def test_the_spread_lines_up_each_row_across_runs(tmp_path):
    runs = [_run(tmp_path, "a", ["spmv,uniform,\"2e6, nnz 2e7\",numba,1,scipy,1,1.00,0.98,1.02,1.0,False,15,",
                                 "spmv,uniform,\"2e6, nnz 2e7\",numba,1,triad,1,0.80,0.78,0.82,0.7,True,15,",
                                 "spmm,k16,x,numba,1,scipy,1,1.50,1.40,1.60,,,15,"]),
            _run(tmp_path, "b", ["spmv,uniform,\"2e6, nnz 2e7\",numba,1,scipy,1,1.10,1.05,1.12,1.0,True,15,",
                                 "spmv,uniform,\"2e6, nnz 2e7\",numba,1,triad,1,0.76,0.70,0.80,0.7,True,15,",
                                 "spmm,k16,x,numba,1,scipy,1,,,,,,0,not run: no scipy"]),
            _run(tmp_path, "c", ["spmv,uniform,\"2e6, nnz 2e7\",numba,1,scipy,1,1.05,1.01,1.09,1.0,True,15,",
                                 "spmv,uniform,\"2e6, nnz 2e7\",numba,1,triad,1,0.78,0.72,0.81,0.7,True,15,"])]
    lines = ys.spread(ys.load(runs)).set_index("peer")
    scipy = lines.loc["scipy"]
    spmv = scipy[scipy["problem"] == "spmv"].iloc[0]
    assert (spmv["run_1"], spmv["run_2"], spmv["run_3"]) == (1.00, 1.10, 1.05)
    assert spmv["median"] == 1.05 and spmv["spread"] == pytest.approx(0.10 / 1.05)
    assert spmv["met_runs"] == 2 and spmv["lowest_lo"] == 0.98
    assert lines.loc["triad"]["met_runs"] == 3
    spmm = scipy[scipy["problem"] == "spmm"].iloc[0]
    assert spmm["runs"] == 1 and spmm["spread"] == 0 and pd.isna(spmm["met_runs"]), "no target: nothing to meet"
    text = ys.markdown(ys.spread(ys.load(runs)), runs, 3)
    assert "| 1.00x | 1.10x | 1.05x | 1.05x | 9.5% | ≥ 1x | 2 of 3 |" in text
    assert "| 80% | 76% | 78% | 78% |" in text  # triad rows as % of bandwidth
    assert "2 rows measured in all 3 runs" in text and "Targets: 1 of 2 met in every run, 0 in none, 1 in some" in text


def test_a_folder_without_a_table_is_named(tmp_path):
    with pytest.raises(SystemExit, match="no such table"):
        ys.load([tmp_path / "missing"])
    (tmp_path / "t.csv").write_text("a,b\n1,2\n")
    with pytest.raises(SystemExit, match="not a yardstick table"):
        ys.load([tmp_path / "t.csv"])
