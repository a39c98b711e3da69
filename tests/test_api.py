"""The notebook API: `from harness import grade` grades like the CLI and returns the record."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from harness import ROOT, grade, memfloor, problems
from harness import record as records

REFERENCE = ROOT / "problems" / "coo-to-csr" / "reference" / "numpy.py"
WRONG = "import numpy as np\n\ndef coo_to_csr(A):\n    return None\n"


def test_import_harness_stays_light():
    code = "import sys, harness; assert 'numpy' not in sys.modules; from harness import grade; print(grade.__module__)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "harness.api"


def test_grade_a_file_by_slug_returns_a_stamped_record_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(records, "RUNS_DIR", tmp_path / "runs")
    rec = grade("coo-to-csr", REFERENCE, plan="off", author="Ada")
    assert rec["verdict"] == "AC" and rec["problem"] == "coo-to-csr" and rec["author"] == "ada"
    assert rec["id"] and rec["timestamp"] and rec["file"] == "problems/coo-to-csr/reference/numpy.py"
    assert rec["sandbox"]["calls"] >= len(rec["cases"]) > 0  # it ran in the sandboxed child
    assert not (tmp_path / "runs").exists()
    json.dumps(rec)  # plain data, as the CLI's --json prints it


def test_grade_source_text_with_a_problem_object_and_record_it(tmp_path):
    rec = grade(problems.get("coo-to-csr"), WRONG, plan="off", author="ada", record=True, results=tmp_path)
    assert rec["verdict"] == "WA" and rec["file"] == "<source>" and "NoneType" in rec["reason"]
    written = records.read(tmp_path / "runs" / f"{rec['id']}.json")
    assert written["verdict"] == "WA" and rec["record_path"].endswith(f"{rec['id']}.json")


def test_source_text_that_does_not_parse_is_ce():
    rec = grade("coo-to-csr", "def coo_to_csr(:\n", plan="off", author="ada")
    assert rec["verdict"] == "CE"


def test_the_folder_names_the_author_as_in_the_cli(tmp_path):
    file = tmp_path / "solutions" / "zoe" / "coo_to_csr.py"
    file.parent.mkdir(parents=True)
    file.write_text(REFERENCE.read_text())
    assert grade("coo-to-csr", str(file), plan="off")["author"] == "zoe"


def test_bad_calls_raise_with_a_clear_message(tmp_path):
    with pytest.raises(problems.ProblemError, match="no problem named"):
        grade("coo-to-csx", REFERENCE)
    with pytest.raises(FileNotFoundError, match="no such file"):
        grade("coo-to-csr", tmp_path / "missing.py")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match="not a Python file"):
        grade("coo-to-csr", tmp_path / "notes.txt")
    with pytest.raises(ValueError, match="plan must be one of"):
        grade("coo-to-csr", REFERENCE, plan="fast")
    if memfloor.startup_mib(1):
        with pytest.raises(ValueError, match="too small for Python and NumPy to start"):
            grade("coo-to-csr", REFERENCE, mem_mb=16)


def test_every_case_runs_unless_first_failure_is_asked_for():
    every = grade("coo-to-csr", WRONG, plan="off", author="ada")
    first = grade("coo-to-csr", WRONG, plan="off", author="ada", first_failure=True)
    assert every["verdict"] == first["verdict"] == "WA" and every["reason"] == first["reason"]
    assert len(first["cases"]) == 1 and len(every["cases"]) > 1
    assert all(c["status"] == "WA" for c in every["cases"])  # None is wrong for every case
