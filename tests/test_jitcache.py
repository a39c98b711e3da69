"""The Numba cache hand-over from a grade's correctness child to its timing child
(harness/jitcache.py), and the CPUs a grade's children share (sandbox.shared_cpus)."""
from __future__ import annotations

import os
import textwrap

import numpy as np
import pytest

from harness import jitcache, sandbox
from harness.sandbox import Child
from harness.spec import Limits

LIMITS = Limits(wall_s=60.0, cpu_s=120.0, mem_mb=4096)
NAME = "tmp_abc/kernel.double-12.py311.nbi"


def _file(tmp_path, body: str):
    path = tmp_path / "sub.py"
    path.write_text(textwrap.dedent(body))
    return path


@pytest.mark.parametrize("name", [NAME, "kernel.double-12.py311.1.nbc", "a_b/f-1.py311.2.nbc"])
def test_numba_file_names_are_handed_over(name):
    assert jitcache.checked([[name, np.zeros(4, np.uint8)]]) == {name: bytes(4)}


@pytest.mark.parametrize("value", [
    [["../escape.nbi", np.zeros(1, np.uint8)]],  # out of the cache
    [["/abs/olute.nbi", np.zeros(1, np.uint8)]],
    [["a/b/c.nbi", np.zeros(1, np.uint8)]],  # deeper than numba's layout
    [["stash.bin", np.zeros(1, np.uint8)]],  # not a numba file
    [[".hidden.nbi", np.zeros(1, np.uint8)]],
    [[NAME, np.zeros(1, np.uint16)]],  # not bytes
    [[NAME, np.zeros((1, 1), np.uint8)]],
    [[NAME, np.zeros(1, np.uint8)], [NAME, np.zeros(1, np.uint8)]],  # twice
    [[NAME, np.zeros(1, np.uint8), "extra"]],
    "not a list",
    [[f"f{i}.nbi", np.zeros(1, np.uint8)] for i in range(jitcache.MAX_FILES + 1)],  # too many
    [["a.nbi", np.zeros(jitcache.MAX_BYTES, np.uint8)], ["b.nbi", np.zeros(1, np.uint8)]],  # too much
])
def test_anything_else_and_nothing_is_handed_over(value):
    assert jitcache.checked(value) == {}


def test_what_one_child_compiled_the_next_finds_in_its_cache(tmp_path):
    # the entry reports the cache files it finds before its jitted kernel runs (and compiles)
    path = _file(tmp_path, """
        import os
        import numba

        @numba.njit(cache=True)
        def double(x):
            return 2 * x

        def entry(x):
            root = os.environ["NUMBA_CACHE_DIR"]
            found = sorted(os.path.relpath(os.path.join(d, f), root)
                           for d, _, names in os.walk(root) for f in names)
            return [double(x), len(found)]
    """)
    with Child(path, "entry", 1, LIMITS) as first:
        reply, got, _ = first.call((3,))
        assert reply["status"] == "ok" and got == [6, 0]
        files = first.export_jit()
    assert files and all(name.endswith((".nbi", ".nbc")) for name in files)
    with Child(path, "entry", 1, LIMITS) as second:
        second.seed_jit(files)
        reply, got, _ = second.call((4,))
    assert reply["status"] == "ok" and got == [8, len(files)]


def test_a_child_that_answers_the_export_with_garbage_costs_only_the_hand_over(tmp_path):
    path = _file(tmp_path, """
        import __main__, os

        __main__._export = lambda config, fd: os.write(fd, b"not a cache\\n")  # the child's code is the submission's

        def entry(x):
            return x
    """)
    with Child(path, "entry", 1, LIMITS) as child:
        assert child.call((1,))[0]["status"] == "ok"
        assert child.export_jit() == {}
        assert child.proc.poll() is not None  # killed: its reply channel cannot be trusted any more


def test_a_grade_shares_the_last_cpus(monkeypatch):
    monkeypatch.setattr(sandbox.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    assert sandbox.shared_cpus(1) == (3,)
    assert sandbox.shared_cpus(2) == (2, 3)
    assert sandbox.shared_cpus(4) is None  # every CPU: pinning would change nothing
    monkeypatch.setattr(sandbox.os, "sched_getaffinity", lambda pid: {5}, raising=False)
    assert sandbox.shared_cpus(1) is None


def test_a_pinned_child_runs_on_its_cpus_once_loaded(tmp_path):
    path = _file(tmp_path, """
        import os

        def entry(x):
            return sorted(os.sched_getaffinity(0))
    """)
    cpu = max(os.sched_getaffinity(0))
    with Child(path, "entry", 1, LIMITS, cpus=(cpu,)) as child:
        reply, got, _ = child.call((0,))
    assert reply["status"] == "ok" and got == [cpu]


# -- the store: a file's compiled code, kept for the next grade of the same bytes ------------
SHA = "ab" * 32


def test_the_store_gives_back_what_it_kept_for_the_same_bytes_only(tmp_path):
    files = {NAME: b"index", "tmp_abc/kernel.double-12.py311.1.nbc": b"data"}
    jitcache.keep(tmp_path, SHA, files)
    assert jitcache.recall(tmp_path, SHA) == files
    assert jitcache.recall(tmp_path, "cd" * 32) == {}  # another file's bytes
    assert jitcache.recall(tmp_path, "../" + SHA) == {}  # not a sha256
    jitcache.keep(tmp_path, SHA, {"f.nbi": b"new"})  # replaced whole, not merged
    assert jitcache.recall(tmp_path, SHA) == {"f.nbi": b"new"}
    assert [p.name for p in tmp_path.iterdir()] == [SHA]  # nothing left aside


@pytest.mark.parametrize("spoil", ["link", "name", "size"])
def test_a_spoiled_store_entry_gives_nothing(tmp_path, spoil, monkeypatch):
    jitcache.keep(tmp_path, SHA, {"f.nbi": b"index"})
    entry = tmp_path / SHA
    if spoil == "link":
        (entry / "g.nbc").symlink_to("/etc/hostname")
    elif spoil == "name":
        (entry / "stash.bin").write_bytes(b"x")
    else:
        monkeypatch.setattr(jitcache, "MAX_BYTES", 3)
    assert jitcache.recall(tmp_path, SHA) == {}


def test_the_store_keeps_the_most_recently_used(tmp_path, monkeypatch):
    monkeypatch.setattr(jitcache, "KEEP", 2)
    shas = [c * 64 for c in "abc"]
    for i, sha in enumerate(shas[:2]):
        jitcache.keep(tmp_path, sha, {"f.nbi": b"x"})
        os.utime(tmp_path / sha, (1000 + i, 1000 + i))
    assert jitcache.recall(tmp_path, shas[0])  # used again: now the newest
    jitcache.keep(tmp_path, shas[2], {"f.nbi": b"x"})
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([shas[0], shas[2]])


def test_the_store_is_off_with_a_secret_or_when_turned_off(monkeypatch):
    monkeypatch.delenv(jitcache.STORE_ENV, raising=False)
    assert jitcache.enabled("") and not jitcache.enabled("leaderboard-secret")
    monkeypatch.setenv(jitcache.STORE_ENV, "off")
    assert not jitcache.enabled("")


def test_a_regrade_of_the_same_bytes_starts_from_their_compiled_code(tmp_path, monkeypatch):
    from harness import problems
    from harness.grader import grade

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(jitcache.STORE_ENV, raising=False)
    p = problems.get("spmv")
    file = tmp_path / "mine.py"
    file.write_bytes(p.reference_path("numba").read_bytes())
    first = grade(p, file, plan="off")
    again = grade(p, file, plan="off")
    assert first["verdict"] == again["verdict"] == "AC"
    assert "jit_reused" not in first and again["jit_reused"] is True
    assert grade(p, file, plan="off", secret="s3cret").get("jit_reused") is None  # a leaderboard grade compiles
