"""The Numba cache hand-over from a grade's correctness child to its timing child
(harness/jitcache.py), and the CPUs a grade's children share (sandbox.shared_cpus)."""
from __future__ import annotations

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
