"""Bad command lines get one line saying what is wrong and what to type instead (exit 2)."""
from __future__ import annotations

import os
import resource
import subprocess
import sys

import pytest

from harness import ROOT, cli, memfloor
from harness.sandbox import THREAD_VARS

REFERENCE = ROOT / "problems" / "coo-to-csr" / "reference" / "numpy.py"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_folder_as_the_file_points_to_all(tmp_path, capsys):
    for argv in (["grade", "spmv", str(tmp_path)], ["grade", str(tmp_path)]):
        code, out, err = run(capsys, *argv)
        assert code == 2 and out == ""
        assert "is a folder" in err and f"sparsebench grade --all {tmp_path}" in err


def test_a_problem_without_a_file_says_what_is_missing_and_shows_usage(capsys):
    code, _, err = run(capsys, "grade", "spmv")
    first, *rest = err.splitlines()
    assert code == 2 and first.startswith("error: grade spmv: which file?")
    assert "sparsebench grade spmv FILE" in first and "sparsebench new spmv" in first
    assert rest and rest[0].startswith("usage: sparsebench grade")


def test_file_before_problem_is_named(capsys):
    code, _, err = run(capsys, "grade", str(REFERENCE), "coo-to-csr")
    assert code == 2 and f"the problem comes first: sparsebench grade coo-to-csr {REFERENCE}" in err


def _starts(limit_mib: int, threads: int) -> bool:
    """Does a child set up as the grader's (-E, thread variables) import NumPy under RLIMIT_AS?"""
    limit = limit_mib << 20
    env = {"PATH": os.environ.get("PATH", ""), **{k: str(threads) for k in THREAD_VARS}}
    code = "import sys; sys.path.insert(0, sys.argv[1]); import numpy, harness.codec"
    proc = subprocess.run([sys.executable, "-E", "-c", code, str(ROOT)], env=env, capture_output=True,
                          preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit)))
    return proc.returncode == 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS and /proc/self/status are Linux's")
@pytest.mark.parametrize("threads", [1, 2])
def test_the_start_up_floor_is_measured_and_real(threads):
    need = memfloor.startup_mib(threads)
    assert need is not None and 20 < need < 4096
    assert not _starts(int(need * 0.85), threads)  # below the floor, NumPy cannot load
    assert _starts(need + 8, threads)  # just above it, it does


def test_too_small_mem_is_one_clear_line(capsys):
    need = memfloor.startup_mib(1)
    if need is None:
        pytest.skip("no /proc: the floor cannot be measured here")
    code, out, err = run(capsys, "grade", "coo-to-csr", str(REFERENCE), "--mem", str(need // 2), "--no-record")
    assert code == 2 and out == ""
    assert err.strip() == (f"error: --mem {need // 2} MiB is too small for Python and NumPy to start (they need "
                           f"about {need} MiB with 1 thread on this machine); raise --mem")


def test_mem_above_the_floor_grades(tmp_path, capsys):
    need = memfloor.startup_mib(1) or 200
    code, out, _ = run(capsys, "grade", "coo-to-csr", str(REFERENCE), "--mem", str(max(need * 3, 512)),
                       "--no-timing", "--no-record")
    assert code == 0 and "AC" in out
