"""The typed record: `Record.to_dict()` is the JSON schema of harness/record.py, optional fields
absent rather than null, and a scored record its own variant; it goes through finish, write
and read like any record."""
from __future__ import annotations

import json
from dataclasses import replace

from harness import record as records
from harness.schema import CaseOutcome, Record, SandboxReport, Scored, Seeds, TimerCheck
from harness.spec import Limits
from harness.timing import TimedCall, size_row

CHILD = {"network": "isolated", "filesystem": "read-only", "processes": "own PID namespace",
         "output": {"bytes": 10, "kept_bytes": 10, "cut_bytes": 0}, "calls": 20, "background_cpu_s": 0.01,
         "between_calls_s": 1.0, "processes_started": 0}


def timed(**changes) -> Record:
    row = size_row(1000, [1000.0] * 4, [TimedCall(0.001, 0.0012, 0.002, 0.0022)] * 4)  # two turns: an interval
    base = Record(problem="coo-to-csr", file="solutions/ada/coo_to_csr.py", sha256="ab" * 32, threads=1, plan="quick",
                  baseline=False, limits=Limits(), seeds=Seeds.of(""), size_unit="nnz", machine={"cores": 2},
                  yardstick=None, sandbox=SandboxReport.merge([CHILD, CHILD]), verdict="AC", reason="all passed",
                  failure=None, cases=[CaseOutcome("empty", 0.0, "pass", seconds=1e-4)], timings=[row], score=2.0,
                  slope=None, reference_slope=None, expected_exponent=1.0, flags=[], first_call_s={"submission": 0.1},
                  timer_check=TimerCheck(3, 0.01, 0.003, 0.0036, 0.006, 0.0066, 0.0), grade_seconds=1.5)
    return replace(base, **changes)


def test_a_timed_record_has_the_schema_fields():
    d = timed().to_dict()
    assert list(d) == ["problem", "file", "sha256", "threads", "plan", "baseline", "limits", "seeds", "size_unit",
                       "machine", "yardstick", "sandbox", "verdict", "reason", "failure", "cases", "timings", "score",
                       "slope", "reference_slope", "expected_exponent", "flags", "first_call_s", "timer_check",
                       "grade_seconds"]
    assert "kind" not in d, "finish stamps kind 'grade'"
    assert d["limits"] == {"wall_s": 20.0, "cpu_s": 900.0, "mem_mb": 4096, "output_kb": 64}
    assert d["seeds"] == {"hidden": False, "derivation": "sha256(slug/label/secret)", "secret_id": None}
    assert d["cases"] == [{"name": "empty", "size": 0.0, "status": "pass", "seconds": 1e-4}]
    assert list(d["timings"][0]) == ["size", "measure", "reps", "sub_median_s", "sub_spread", "ref_median_s",
                                     "ref_spread", "speedup", "sub_overhead_s", "ref_overhead_s", "sub_times_s",
                                     "ref_times_s", "speedup_lo", "speedup_hi"], \
        "no rate fields without a bytes or flops model; the speedup's interval (two turns of pairs) last"
    row = d["timings"][0]
    assert row["speedup_lo"] == row["speedup_hi"] == row["speedup"], "identical pairs: no width"
    assert d["timer_check"]["calls"] == 3 and d["timer_check"]["unexplained_s"] == 0.0
    with_interval = timed(score_interval=(1.9, 2.1)).to_dict()
    assert list(with_interval).index("score_interval") == list(with_interval).index("score") + 1
    assert with_interval["score_interval"] == [1.9, 2.1]


def test_the_sandbox_report_adds_up_children():
    sandbox = timed().to_dict()["sandbox"]
    assert sandbox == {"network": "isolated", "filesystem": "read-only", "processes": "own PID namespace",
                       "output": {"bytes": 20, "kept_bytes": 20, "cut_bytes": 0}, "calls": 40,
                       "background_cpu_s": 0.02, "between_calls_s": 2.0, "processes_started": 0,
                       "other_threads_cpu_s": 0.0, "children": 2}
    assert timed(sandbox=None).to_dict()["sandbox"] == {"note": "no child was started (rejected before running)"}


def test_failed_cases_carry_their_message_and_rates_appear_with_their_models():
    case = CaseOutcome("three", 3.0, "WA", message="case 'three': values differ")
    assert case.to_dict() == {"name": "three", "size": 3.0, "status": "WA", "message": "case 'three': values differ"}
    hook = CaseOutcome("m.cost", 0.0, "pass", seconds=0.5, wall_s=0.6)
    assert list(hook.to_dict()) == ["name", "size", "status", "seconds", "wall_s"]
    row = size_row(10, [10.0], [TimedCall(0.45, 0.5, 0.9, 1.0)], yardstick={"triad_gbytes_per_s": 4.0},
                   bytes_moved=1e9, flops=2e9)
    assert (row.gbytes_per_s, row.bandwidth_pct, row.gflops) == (2.0, 50.0, 4.0)
    assert list(row.to_dict())[-3:] == ["gbytes_per_s", "bandwidth_pct", "gflops"]


def test_a_scored_record_is_kind_score_without_timer_check():
    d = timed(scored=Scored("bits/char", True, {"params": 10}), timings=[], score=1.7, expected_exponent=None,
              timer_check=None).to_dict()
    assert d["kind"] == "score" and d["score_unit"] == "bits/char" and d["lower_is_better"] is True
    assert d["metrics"] == {"params": 10} and "timer_check" not in d
    assert list(d).index("kind") == list(d).index("yardstick") + 1 and list(d).index("metrics") == \
        list(d).index("score") + 1


def test_a_built_record_is_finished_written_and_read_back(tmp_path):
    rec = records.finish(timed().to_dict(), "ada")
    path = records.write(rec, tmp_path)
    assert records.read(path) == json.loads(json.dumps(rec)) and rec["kind"] == "grade"
