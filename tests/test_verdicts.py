"""Each verdict triggered by a small purpose-made submission; the grader never falls over."""
from __future__ import annotations

import textwrap
from dataclasses import replace

import pytest

from harness import problems
from harness.grader import grade
from harness.timing import PLANS

CORRECT = """
import numpy as np
from harness.types import CSR, index_dtype

def _solve(A):
    rows, cols = A.shape
    if A.row.size and (A.row.min() < 0 or A.col.min() < 0 or A.row.max() >= rows or A.col.max() >= cols):
        raise ValueError("bad index")
    order = np.lexsort((A.col, A.row))
    r, c, d = A.row[order].astype(np.int64), A.col[order].astype(np.int64), A.data[order]
    if r.size:
        s = np.flatnonzero(np.r_[True, (r[1:] != r[:-1]) | (c[1:] != c[:-1])])
        with np.errstate(invalid="ignore"):
            d = np.add.reduceat(d, s)
        r, c = r[s], c[s]
    dt = index_dtype(rows, cols, r.size)
    ip = np.zeros(rows + 1, dtype=dt)
    np.cumsum(np.bincount(r, minlength=rows), out=ip[1:])
    return CSR(ip, c.astype(dt), d, (rows, cols))
"""


@pytest.fixture(scope="module")
def problem():
    return problems.get("coo-to-csr")


def run(tmp_path, problem, body: str, *, limits=None, plan="off"):
    path = tmp_path / "coo_to_csr.py"
    path.write_text(textwrap.dedent(body))
    return grade(problem, path, plan=plan, limits=limits)


def test_correct_solution_is_accepted(tmp_path, problem):
    rec = run(tmp_path, problem, CORRECT + "\ncoo_to_csr = _solve\n")
    assert rec["verdict"] == "AC", rec["reason"]
    assert all(c["status"] == "pass" for c in rec["cases"])


def test_syntax_error_is_CE_with_line(tmp_path, problem):
    rec = run(tmp_path, problem, "def coo_to_csr(A):\n    return (\n")
    assert rec["verdict"] == "CE" and "line" in rec["reason"]


def test_missing_entry_is_CE(tmp_path, problem):
    rec = run(tmp_path, problem, "def coo_to_csc(A):\n    return A\n")
    assert rec["verdict"] == "CE" and "no function named 'coo_to_csr'" in rec["reason"]


def test_wrong_signature_is_CE(tmp_path, problem):
    rec = run(tmp_path, problem, "def coo_to_csr(A, B):\n    return A\n")
    assert rec["verdict"] == "CE" and "positional arguments" in rec["reason"]


def test_error_at_import_is_CE(tmp_path, problem):
    rec = run(tmp_path, problem, "import numpy_typo_package\n")
    assert rec["verdict"] == "CE" and "ModuleNotFoundError" in rec["reason"]


def test_forbidden_import_is_CE_naming_it(tmp_path, problem):
    rec = run(tmp_path, problem, "import scipy.sparse as sp\ndef coo_to_csr(A):\n    return sp.coo_array(A).tocsr()\n")
    assert rec["verdict"] == "CE" and "scipy.sparse" in rec["reason"]


def test_dynamic_forbidden_import_is_caught_at_run_time(tmp_path, problem):
    body = "import importlib\nNAME = 'scipy' + '.sparse'\ndef coo_to_csr(A):\n    importlib.import_module(NAME)\n"
    rec = run(tmp_path, problem, body)
    assert rec["verdict"] == "CE" and "scipy.sparse" in rec["reason"]


def test_reading_the_reference_is_refused(tmp_path, problem):
    from harness import ROOT

    body = f"open({str(ROOT / 'problems/coo-to-csr/reference/numpy.py')!r}).read()\ndef coo_to_csr(A):\n    pass\n"
    rec = run(tmp_path, problem, body)
    assert rec["verdict"] == "CE" and "problems/coo-to-csr/reference" in rec["reason"]


def test_exception_is_RE_with_traceback(tmp_path, problem):
    rec = run(tmp_path, problem, "def coo_to_csr(A):\n    return 1 / 0\n")
    assert rec["verdict"] == "RE" and "ZeroDivisionError" in rec["reason"]
    assert "ZeroDivisionError" in rec["failure"]["traceback"]


def test_sys_exit_is_RE(tmp_path, problem):
    rec = run(tmp_path, problem, "import sys\ndef coo_to_csr(A):\n    sys.exit(0)\n")
    assert rec["verdict"] == "RE" and "SystemExit" in rec["reason"]


def test_hard_exit_is_RE(tmp_path, problem):
    rec = run(tmp_path, problem, "import os\ndef coo_to_csr(A):\n    os._exit(0)\n")
    assert rec["verdict"] == "RE" and "exited" in rec["reason"]


def test_infinite_loop_is_TLE(tmp_path, problem):
    limits = replace(problem.limits, wall_s=1.0)
    rec = run(tmp_path, problem, "def coo_to_csr(A):\n    while True:\n        pass\n", limits=limits)
    assert rec["verdict"] == "TLE" and "1 s" in rec["reason"]


def test_huge_allocation_is_MLE(tmp_path, problem):
    limits = replace(problem.limits, mem_mb=1024)
    body = "import numpy as np\ndef coo_to_csr(A):\n    return np.ones(10**10)\n"
    rec = run(tmp_path, problem, body, limits=limits)
    assert rec["verdict"] == "MLE" and "MemoryError" in rec["reason"]


def test_wrong_values_are_WA_with_a_diff(tmp_path, problem):
    rec = run(tmp_path, problem,
              CORRECT + "\ndef coo_to_csr(A):\n    B = _solve(A)\n    return B._replace(data=B.data * 2)\n")
    assert rec["verdict"] == "WA"
    assert "differ" in rec["reason"] and "expected" in rec["failure"]["diff"]
    assert rec["failure"]["inputs"]  # small inputs are printed


def test_all_zeros_answer_never_passes(tmp_path, problem):
    rec = run(tmp_path, problem,
              CORRECT + "\ndef coo_to_csr(A):\n    B = _solve(A)\n    return B._replace(data=B.data * 0)\n")
    assert rec["verdict"] == "WA"


def test_missing_value_error_is_WA(tmp_path, problem):
    body = CORRECT + ("\ndef coo_to_csr(A):\n    try:\n        return _solve(A)\n    except ValueError:\n"
                      "        return _solve(A._replace(row=A.row[:0], col=A.col[:0], data=A.data[:0]))\n")
    rec = run(tmp_path, problem, body)
    assert rec["verdict"] == "WA" and "expected ValueError" in rec["reason"]


def test_mutating_the_input_is_WA(tmp_path, problem):
    rec = run(tmp_path, problem,
              CORRECT + "\ndef coo_to_csr(A):\n    out = _solve(A)\n    A.data[:] = 0\n    return out\n")
    assert rec["verdict"] == "WA" and "modified its input" in rec["reason"]


def test_returning_an_input_array_is_WA(tmp_path, problem):
    body = CORRECT + ("\ndef coo_to_csr(A):\n    B = _solve(A)\n"
                      "    return B._replace(data=A.data) if B.data.size == A.data.size else B\n")
    rec = run(tmp_path, problem, body)
    assert rec["verdict"] == "WA" and "shares memory" in rec["reason"]


def test_timing_gives_a_score_and_rows(tmp_path, problem):
    rec = run(tmp_path, problem, CORRECT + "\ncoo_to_csr = _solve\n", plan="quick")
    # quick times every size (issue 13: two sizes alone gave a score 33% off the full one), but
    # for one this slow, whose largest sizes would outlast its phase budget, the smaller ones
    assert rec["verdict"] == "AC" and rec["score"] > 0 and len(rec["timings"]) >= 2
    timed = [t["size"] for t in rec["timings"]]
    assert timed + rec["timer_check"].get("untimed", []) == problem.bench_sizes
    row = rec["timings"][0]
    assert row["reps"] >= PLANS["quick"].min_reps and row["sub_median_s"] > 0 and row["ref_median_s"] > 0
    lo, hi = rec["score_interval"]
    assert lo <= hi and row["speedup_lo"] <= row["speedup_hi"]
    assert rec["first_call_s"]["reference"] > 0
