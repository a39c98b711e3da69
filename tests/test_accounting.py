"""harness/accounting.py: the grader measures a child's CPU from outside, every thread and process."""
from __future__ import annotations

import subprocess
import sys
import time

import pytest

from harness import accounting

SPIN = """
import hashlib, threading, time, sys
BLOCK = bytes(1 << 22)
def spin(cpu):
    while time.thread_time() < cpu:  # this thread's own CPU: the same work on a busy machine
        hashlib.sha256(BLOCK).digest()  # releases the GIL: the threads really run side by side
threads = [threading.Thread(target=spin, args=(float(sys.argv[1]),)) for _ in range(int(sys.argv[2]))]
for t in threads: t.start()
for t in threads: t.join()
print("spun", flush=True)
time.sleep(30)  # blocked from here on: the count is exact
"""


def _spinning(meter: accounting.Meter, seconds: float, threads: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", SPIN, str(seconds), str(threads)], preexec_fn=meter.join,
                            stdout=subprocess.PIPE)
    meter.attach(proc.pid)
    return proc


def _cpu_after(meter: accounting.Meter, proc: subprocess.Popen) -> float:
    assert proc.stdout.readline() == b"spun\n"
    time.sleep(0.05)  # blocked in sleep by now
    try:
        return meter.usage_ns() / 1e9
    finally:
        proc.kill()
        proc.wait()
        meter.close()


def test_no_meter_measures_nothing():
    m = accounting.meter("none")
    assert m.kind == "none" and m.usage_ns() is None and m.pids() == set()


@pytest.mark.parametrize("kind", ["cgroup", "schedstat"])
def test_every_thread_is_counted(kind):
    m = accounting.meter(kind)
    if kind == "cgroup" and not isinstance(m, accounting.Cgroup):
        pytest.skip("no writable cgroup hierarchy on this machine")
    if m.kind == "none":
        pytest.skip("no /proc")
    idle = _cpu_after(m, _spinning(m, 0.0, 0))
    m = accounting.meter(kind)
    used = _cpu_after(m, _spinning(m, 0.2, 2))
    # two threads of 0.2 s of CPU each, exited before the read: 0.4 s more
    assert used - idle > 0.35, (m.kind, used, idle)


def test_a_cgroup_lists_the_processes_and_goes_away():
    m = accounting.meter("cgroup")
    if not isinstance(m, accounting.Cgroup):
        pytest.skip("no writable cgroup hierarchy on this machine")
    forks = "import os, time\nif os.fork() == 0: time.sleep(30)\ntime.sleep(30)"
    proc = subprocess.Popen([sys.executable, "-c", forks], preexec_fn=m.join)
    m.attach(proc.pid)
    deadline = time.monotonic() + 10
    while len(m.pids()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.pid in m.pids() and len(m.pids()) == 2, "the fork is listed too"
    m.kill()
    proc.wait()
    m.close()
    assert not m.path.exists()


def test_cgroup_bases_are_read_from_mountinfo():
    for base, version in accounting.cgroup_bases():
        assert version in (1, 2) and base.is_dir()
