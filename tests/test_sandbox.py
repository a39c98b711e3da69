"""The sandbox and the grader's distrust of the child: what a hostile submission can
and cannot do, beyond the verdicts the example files declare (tests/test_problems.py)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pytest

from harness import ROOT, integrity, problems, transport
from harness.grader import Grader, grade
from harness.sandbox import _sane, numba_cache

COO_TO_CSR = problems.get("coo-to-csr")
EXAMPLES = ROOT / "problems" / "coo-to-csr" / "examples"

CORRECT = '''
import numpy as np
from harness.types import COO, CSR, index_dtype


def convert(A):
    n_rows, n_cols = A.shape
    if A.row.size and (A.row.min() < 0 or A.col.min() < 0 or A.row.max() >= n_rows or A.col.max() >= n_cols):
        raise ValueError("index outside the shape")
    order = np.lexsort((A.col, A.row))
    r, c, d = A.row[order], A.col[order], A.data[order]
    if r.size:
        starts = np.flatnonzero(np.r_[True, (r[1:] != r[:-1]) | (c[1:] != c[:-1])])
        with np.errstate(invalid="ignore"):
            d = np.add.reduceat(d, starts)
        r, c = r[starts], c[starts]
    dt = index_dtype(n_rows, n_cols, r.size)
    indptr = np.zeros(n_rows + 1, dtype=dt)
    np.cumsum(np.bincount(r, minlength=n_rows), out=indptr[1:])
    return CSR(indptr, c.astype(dt), d.astype(np.float64), (n_rows, n_cols))
'''


def _submission(tmp_path: Path, body: str, name: str = "coo_to_csr.py") -> Path:
    path = tmp_path / name
    path.write_text(CORRECT + textwrap.dedent(body))
    return path


def _grade(path: Path, plan: str = "off", first_failure: bool = False, **limits) -> dict:
    return grade(COO_TO_CSR, path, plan=plan, first_failure=first_failure,
                 limits=replace(COO_TO_CSR.limits, **limits))


def _processes_of(path: Path) -> list[int]:
    """Live processes whose command line names `path` (the child carries it in its config)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as fh:
                    cmdline = fh.read()
                with open(f"/proc/{entry}/stat") as fh:
                    zombie = fh.read().rsplit(")", 1)[1].split()[0] == "Z"
            except OSError:
                continue
            if str(path).encode() in cmdline and not zombie:
                found.append(int(entry))
    return found


def _survivors(path: Path, wait_s: float = 2.0) -> list[int]:
    deadline = time.monotonic() + wait_s
    while (left := _processes_of(path)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def _namespaces_available() -> bool:
    """Whether this machine lets a process unshare its network, mount and PID namespaces."""
    probe = ("import ctypes, os, sys; libc = ctypes.CDLL(None, use_errno=True); "
             "sys.exit(0 if libc.unshare(0x40000000 | 0x00020000 | 0x20000000) == 0 else 1)")
    return sys.platform.startswith("linux") and subprocess.run([sys.executable, "-c", probe]).returncode == 0


# -- isolation ---------------------------------------------------------------------------
def test_record_says_how_the_submission_was_held():
    rec = _grade(EXAMPLES / "naive_dict.py")
    box = rec["sandbox"]
    assert rec["verdict"] == "AC"
    for aspect in ("network", "filesystem", "processes"):
        assert box[aspect].startswith(("isolated", "read-only", "own PID", "audit-hook only: ", "process group only: "))
    assert box["level"] in ("bubblewrap", "namespaces", "audit-hook only")
    if box["level"] == "bubblewrap":  # a private view, not just a read-only one
        assert box["filesystem"].startswith("read-only and private (bubblewrap)")
        assert box["network"].startswith("isolated") and box["processes"].startswith("own PID namespace")
    elif _namespaces_available():
        assert box["network"].startswith("isolated")
        assert box["filesystem"] == "read-only except the work folder"
        assert box["processes"].startswith("own PID namespace:")
    assert box["output"] == {"bytes": 0, "kept_bytes": 0, "cut_bytes": 0}


@pytest.mark.skipif(not shutil.which("setpriv") or os.geteuid() != 0, reason="needs root and setpriv")
def test_without_privileges_the_audit_hook_still_holds_and_the_record_says_so():
    script = textwrap.dedent(f"""
        import json
        from harness import problems
        from harness.grader import grade
        p = problems.get("coo-to-csr")
        out = {{}}
        for name in ("cheat_socket", "crash_fork_ctypes", "cheat_write_results"):
            rec = grade(p, "{EXAMPLES}/" + name + ".py", plan="off")
            out[name] = [rec["verdict"], rec["sandbox"].get("network", "")]
        print(json.dumps(out))
    """)
    env = {k: v for k, v in os.environ.items() if k != "SPARSEBENCH_REQUIRE_SANDBOX"}  # the fallback is the point
    run = subprocess.run(["setpriv", "--inh-caps=-all", "--bounding-set=-all", "--", sys.executable, "-c", script],
                         cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    for name, (verdict, network) in out.items():
        assert verdict == "CE", (name, verdict)
        assert network.startswith(("isolated", "audit-hook only: ")), network
    assert not _survivors(EXAMPLES / "crash_fork_ctypes.py")
    assert not (ROOT / "results" / "runs" / "forged.json").exists()


@pytest.mark.parametrize("name,limits,verdict", [("crash_fork_ctypes", {}, "CE"),
                                                 ("crash_sleep", {"wall_s": 1.0}, "TLE")])
def test_nothing_the_submission_starts_outlives_the_grade(name, limits, verdict):
    path = EXAMPLES / f"{name}.py"
    rec = _grade(path, **limits)
    assert rec["verdict"] == verdict, rec["reason"]
    assert not _survivors(path), "processes of the submission outlived its grade"


def test_forged_record_never_lands_in_results():
    rec = _grade(EXAMPLES / "cheat_write_results.py")
    assert rec["verdict"] == "CE" and "results/runs/forged.json" in rec["reason"]
    assert not (ROOT / "results" / "runs" / "forged.json").exists()


def test_child_environment_is_scrubbed(tmp_path, monkeypatch):
    monkeypatch.setenv("SPARSEBENCH_SECRET", "do-not-leak")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "do-not-leak")
    path = _submission(tmp_path, """
        import os
        def coo_to_csr(A):
            raise RuntimeError("ENV " + repr(sorted(os.environ.items())))
    """)
    rec = _grade(path)
    assert rec["verdict"] == "RE" and "ENV" in rec["reason"]
    assert "do-not-leak" not in rec["reason"] and "SPARSEBENCH_SECRET" not in rec["reason"]
    assert "'OMP_NUM_THREADS', '1'" in rec["reason"]


def test_each_submission_gets_its_own_numba_cache(tmp_path):
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    assert numba_cache(a, guard=True) != numba_cache(b, guard=True)
    assert numba_cache(a, guard=False) == numba_cache(b, guard=False)


# -- output, replies and result files ------------------------------------------------
def test_output_flood_is_capped_and_the_record_says_how_much_was_cut(tmp_path):
    path = _submission(tmp_path, """
        import os
        def coo_to_csr(A):
            for _ in range(300):
                os.write(1, b"x" * 1023 + b"\\n")
            raise RuntimeError("done printing")
    """)
    rec = _grade(path, output_kb=4, first_failure=True)  # one call prints (every case would, each RE)
    assert rec["verdict"] == "RE"
    assert rec["sandbox"]["output"] == {"bytes": 300 * 1024, "kept_bytes": 8192, "cut_bytes": 300 * 1024 - 8192}


def test_print_1gb_example_is_drained_and_counted():
    rec = _grade(EXAMPLES / "crash_print_1gb.py")
    assert rec["verdict"] == "AC"
    assert rec["sandbox"]["output"]["bytes"] == 1 << 30
    assert rec["sandbox"]["output"]["cut_bytes"] == (1 << 30) - 2 * COO_TO_CSR.limits.output_kb * 1024


@pytest.mark.parametrize("payload,why", [
    (b'{"status": "ok", "seconds": "soon", "mro": 7}\n', "garbled reply"),
    (b'[1, 2, 3]\n', "garbled reply"),
    (b'x' * (2 << 20), "flooded the reply channel"),
])
def test_forged_or_flooded_replies_end_as_RE_not_a_grader_crash(tmp_path, payload, why):
    path = _submission(tmp_path, f"""
        import json, os, sys, time
        def coo_to_csr(A):
            os.write(json.loads(sys.argv[1])["fd_out"], {payload!r})
            time.sleep(5)
    """)
    rec = _grade(path)
    assert rec["verdict"] == "RE" and why in rec["reason"], rec["reason"]


def test_reply_sanitiser():
    ok = _sane({"status": "ok", "seconds": 0.5, "violations": [], "input_digest": "ab"})
    assert ok["seconds"] == 0.5 and ok["processes"] == 0 and ok["aliased"] is False
    for bad in ({"status": "done"}, {"status": "ok"}, {"status": "ok", "seconds": float("nan")},
                {"status": "raised", "mro": "ValueError"}, "ok", None):
        with pytest.raises((ValueError, TypeError)):
            _sane(bad)


def test_result_files_that_could_hang_or_swamp_the_grader_are_refused():
    # results no longer come as zip files: a result is a header and raw bytes on the reply pipe,
    # and whatever could swamp the grader is refused before anything is allocated
    bounds = transport.Bounds(max_bytes=1 << 20)

    def message(head: dict, data: bytes = b"") -> tuple[bytes, int]:
        text = json.dumps(head).encode()
        raw = len(text).to_bytes(8, "little") + text + data
        return raw, len(raw)

    big = {"trees": [{"array": 0}], "arrays": [["<f8", [1 << 40], 0]]}  # a zero-stride "terabyte"
    overlap = {"trees": [{"tuple": [{"array": 0}, {"array": 1}]}], "arrays": [["<f8", [4], 0], ["<f8", [4], 0]]}
    repeated = {"trees": [{"tuple": [{"array": 0}, {"array": 0}]}], "arrays": [["<f8", [4], 0]]}
    objects = {"trees": [{"array": 0}], "arrays": [["|O", [1], 0]]}
    for head, data in ((big, b""), (overlap, bytes(64)), (repeated, bytes(32)), (objects, bytes(8))):
        raw, size = message(head, data)
        left = [memoryview(raw)]

        def read_into(buf, left=left):
            buf[:] = left[0][:len(buf)]
            left[0] = left[0][len(buf):]

        with pytest.raises(transport.TransportError):
            transport.receive(read_into, size, bounds)
    with pytest.raises(transport.TransportError):  # a size announced past the bound: nothing is read
        transport.receive(lambda buf: pytest.fail("read"), 1 << 40, bounds)


def test_lazy_result_containers_cannot_run_code_after_the_clock(tmp_path):
    # a result whose own methods would do (or hide) work is read without calling them
    path = _submission(tmp_path, """
        class Lazy(CSR):
            def __iter__(self):
                raise RuntimeError("lazy container iterated outside the timed call")
            def __getitem__(self, i):
                raise RuntimeError("lazy container indexed outside the timed call")

        class LazyArray(np.ndarray):
            def tobytes(self, *a, **k):
                raise RuntimeError("array subclass serialised itself")
            def tofile(self, *a, **k):
                raise RuntimeError("array subclass serialised itself")

        def coo_to_csr(A):
            r = convert(A)
            return Lazy(r.indptr, r.indices, r.data.view(LazyArray), r.shape)
    """)
    rec = _grade(path)
    assert rec["verdict"] == "AC", rec["reason"]


def test_a_link_planted_for_the_next_input_is_not_followed(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    path = _submission(tmp_path, f"""
        import ctypes, os, sys
        _libc = ctypes.CDLL(None, use_errno=True)

        def coo_to_csr(A):
            with open("/proc/self/maps") as fh:  # the input file this call's arrays are mapped from
                mapped = [line.split()[5] for line in fh if ".sbx" in line]  # "(deleted)": unlinked once mapped
            folder, name = os.path.split(mapped[-1])
            nxt = os.path.join(folder, "in" + str(int(name[2:-4]) + 1) + ".sbx")
            _libc.symlink({str(victim)!r}.encode(), nxt.encode())  # native: no audit event
            return convert(A)
    """)
    rec = _grade(path)
    assert rec["verdict"] == "AC", rec["reason"]
    assert victim.read_text() == "precious"


# -- timing ------------------------------------------------------------------------------
def test_patching_perf_counter_fools_nobody():
    rec = _grade(EXAMPLES / "cheat_patch_perf_counter.py", plan="quick")
    assert rec["verdict"] == "AC"
    assert rec["score"] < 0.5, "the 20 ms sleeps must show in the score"
    assert not any(f.startswith("timer") for f in rec["flags"]), rec["flags"]


def test_timer_cross_check_over_the_whole_phase():
    # timed calls: (submission reported, grader saw around it, reference reported, grader saw)
    honest = [(0.010, 0.013, 0.005, 0.008)] * 20
    assert integrity.timer_phase(honest) == []
    slow_and_noisy = [(0.030, 0.040, 0.005, 0.008)] * 20  # 7 ms more bookkeeping: not a lie
    assert integrity.timer_phase(slow_and_noisy) == []
    # every other call claims 1 ms for 30 ms of work: the per-size medians can look clean
    sneaky = ([(0.030, 0.033, 0.005, 0.008)] + [(0.001, 0.033, 0.005, 0.008)]) * 10
    flags = integrity.timer_phase(sneaky)
    assert len(flags) == 1 and flags[0].startswith("timer:"), flags
    assert integrity.timer_totals(sneaky, 0.0).unexplained_s == pytest.approx(10 * 0.029)
    flags = integrity.timer_phase([(0.050, 0.013, 0.005, 0.008)])
    assert flags and "contradicts" in flags[0]


# -- seeds and grader robustness ------------------------------------------------------------
def test_hidden_seeds_change_the_cases_and_stay_reproducible():
    def randoms(secret):
        g = Grader(COO_TO_CSR, EXAMPLES / "naive_dict.py", secret=secret)
        return [args[0].data for name, args in g.correctness_cases() if name.startswith("random")]

    public, again, hidden = randoms(""), randoms(""), randoms("s3cret")
    assert all(np.array_equal(a, b) for a, b in zip(public, again))
    assert not any(np.array_equal(a, b) for a, b in zip(public, hidden))
    seeds = asdict(Grader(COO_TO_CSR, EXAMPLES / "naive_dict.py", secret="s3cret").seeds)
    assert seeds["hidden"] is True and seeds["secret_id"] and "s3cret" not in json.dumps(seeds)
    assert asdict(Grader(COO_TO_CSR, EXAMPLES / "naive_dict.py", secret="").seeds)["secret_id"] is None


def test_a_grader_failure_still_ends_in_a_record(monkeypatch):
    def broken(self, child, cases):
        raise KeyError("bug")

    monkeypatch.setattr(Grader, "check_correctness", broken)
    rec = _grade(EXAMPLES / "naive_dict.py")
    assert rec["verdict"] == "RE" and "grader failed" in rec["reason"]
    assert any(f.startswith("grader:") for f in rec["flags"])


def test_what_the_submission_prints_is_flushed_and_counted(tmp_path):
    path = _submission(tmp_path, """
        print("hello from import")
        def coo_to_csr(A):
            print("hello from the call")
            raise ValueError("index outside the shape")
    """)
    rec = _grade(path, first_failure=True)  # one call prints (every case would)
    assert rec["verdict"] == "RE"
    assert rec["sandbox"]["output"]["bytes"] == len("hello from import\nhello from the call\n")


def test_a_child_unmaps_its_inputs_once_it_has_answered(tmp_path):
    """The next input's pages can then reuse this one's: held until the next command, every
    timed input of 120 MB needed memory never touched before (harness/heap.py says what that costs)."""
    from harness.sandbox import Child
    from harness.spec import Limits

    path = tmp_path / "total.py"
    path.write_text("def total(x):\n    return float(x.sum())\n")
    with Child(path, "total", 1, Limits(), guard=False) as child:
        reply, results, _ = child.run([(np.ones(1 << 20),)])
        assert reply["status"] == "ok" and results == [float(1 << 20)]
        maps = Path(f"/proc/{child._main}/maps")
        deadline = time.monotonic() + 5.0
        while "in1.sbx" in maps.read_text() and time.monotonic() < deadline:
            time.sleep(0.02)  # the reply is sent just before the call's frame goes
        assert "in1.sbx" not in maps.read_text()
