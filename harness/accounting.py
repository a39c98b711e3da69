"""CPU time of a child and everything it starts, measured by the grader from outside the sandbox.

The child's own clocks and counters can be patched by the code it runs; these cannot. Best
first: a cgroup per child (v1 `cpuacct`, or v2 `cpu.stat`), which counts every thread and
process that was ever in it, exited ones included, and lists its processes; where no cgroup can
be made, the sum of /proc/<pid>/task/<tid>/schedstat over the child's process tree (live threads
only); and where there is no /proc, nothing, said so in the record.

The kernel brings a running thread's count up to date at scheduling events and ticks, so a read
while a thread runs may lag by one tick (CONFIG_HZ); reads at moments the child is blocked are
exact. The grader therefore compares sums over many calls, read while the child waits.
"""
from __future__ import annotations

import os
import secrets
import signal
import time
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
GROUP = "sparsebench"


class Meter:
    """No accounting: the interface, and what a machine without /proc gets."""

    kind = "none"

    def join(self) -> None:
        """Called in the child between fork and exec, so the child and all it starts are counted."""

    def attach(self, pid: int) -> None:
        """The child's pid, once started."""
        self.pid = pid

    def usage_ns(self) -> int | None:
        """CPU nanoseconds used so far by the child and its processes (None: not measured)."""
        return None

    def pids(self) -> set[int]:
        """The child's live processes (not threads)."""
        return set()

    def kill(self) -> None:
        """SIGKILL every process of the child."""
        for pid in self.pids():
            _kill(pid)

    def close(self) -> None:
        """Forget the child (a cgroup is removed once empty)."""


class Schedstat(Meter):
    """The child's live process tree, from /proc: per process, its threads' run time in schedstat
    (ns, exact) or, when more, the process's utime + stime (which keeps the time of threads that
    have exited, in clock ticks). Exited processes no longer count: a weaker fallback, named in
    the record."""

    kind = "schedstat"

    def __init__(self) -> None:
        self.pid = 0

    def pids(self) -> set[int]:
        return {self.pid, *descendants(self.pid)} if self.pid else set()

    def usage_ns(self) -> int | None:
        total = 0
        for pid in self.pids():
            try:
                tasks = os.listdir(f"/proc/{pid}/task")
            except OSError:
                continue
            live = 0
            for tid in tasks:
                try:
                    with open(f"/proc/{pid}/task/{tid}/schedstat") as fh:
                        live += int(fh.read().split()[0])
                except (OSError, ValueError, IndexError):
                    pass
            total += max(live, _stat_ns(pid))
        return total


class Cgroup(Meter):
    """A cgroup of its own for the child: v1 `cpuacct` (cpuacct.usage, ns) or v2 (cpu.stat, µs)."""

    def __init__(self, path: Path, version: int):
        self.path, self.version = path, version
        self.kind = "cgroup v1 cpuacct" if version == 1 else "cgroup v2"
        path.mkdir(parents=True)
        self._procs = str(path / "cgroup.procs")

    def join(self) -> None:
        with open(self._procs, "w") as fh:  # runs before exec: the child's own pid
            fh.write(str(os.getpid()))

    def usage_ns(self) -> int | None:
        try:
            if self.version == 1:
                return int((self.path / "cpuacct.usage").read_text())
            for line in (self.path / "cpu.stat").read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "usage_usec":
                    return int(value) * 1000
        except (OSError, ValueError):
            pass
        return None

    def pids(self) -> set[int]:
        try:
            return {int(p) for p in Path(self._procs).read_text().split()}
        except (OSError, ValueError):
            return set()

    def kill(self) -> None:
        kill_file = self.path / "cgroup.kill"
        if self.version == 2 and kill_file.exists():
            try:
                kill_file.write_text("1")
            except OSError:
                pass
        super().kill()

    def close(self) -> None:
        for _ in range(50):  # a killed process leaves the cgroup once it is reaped
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                self.kill()
                time.sleep(0.02)


def _mounts() -> list[tuple[str, str, str]]:
    """(mount point, type, super options) of every mount this process sees."""
    found = []
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                left, _, right = line.partition(" - ")
                fields = right.split()
                if len(fields) >= 3:
                    found.append((left.split()[4], fields[0], fields[2]))
    except OSError:
        pass
    return found


def cgroup_bases() -> list[tuple[Path, int]]:
    """Where this machine lets the grader make cgroups: v1 cpuacct first (its counter is in ns
    and does not need the cpu controller enabled), then the v2 hierarchy."""
    bases = []
    for point, fstype, options in _mounts():
        if fstype == "cgroup" and "cpuacct" in options.split(","):
            bases.append((Path(point), 1))
    for point, fstype, _ in _mounts():
        if fstype == "cgroup2":
            bases.append((Path(point), 2))
    return bases


def meter(kind: str | None = None) -> Meter:
    """The best meter this machine allows for one child (a fresh cgroup each time). `kind`
    ("cgroup", "schedstat", "none") forces a weaker one, for tests and comparisons."""
    if kind in (None, "cgroup"):
        for base, version in cgroup_bases():
            try:
                return Cgroup(base / GROUP / f"{os.getpid()}-{secrets.token_hex(4)}", version)
            except OSError:
                continue
    if kind in (None, "cgroup", "schedstat") and os.path.exists(f"/proc/{os.getpid()}/task/{os.getpid()}/schedstat"):
        return Schedstat()
    return Meter()


def descendants(pid: int) -> list[int]:
    """Every live descendant of `pid`, from /proc (empty where there is no /proc)."""
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{parent}/task/{tid}/children") as fh:
                    kids = [int(k) for k in fh.read().split()]
            except (OSError, ValueError):
                continue
            found += kids
            todo += kids
    return found


def thread_ns(pid: int, tid: int | None = None) -> int | None:
    """Run time of one thread (the main thread of `pid` by default), in ns, from schedstat."""
    try:
        with open(f"/proc/{pid}/task/{tid or pid}/schedstat") as fh:
            return int(fh.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def line_of_descent(pid: int, depth: int) -> list[int]:
    """`pid` and its only child, that one's only child, ... `depth` processes at most: the
    sandbox's own processes (bubblewrap -> its init -> python; isolation.py's supervisor -> init
    -> worker). The last one runs the child's code."""
    line = [pid]
    while len(line) < depth:
        try:
            with open(f"/proc/{line[-1]}/task/{line[-1]}/children") as fh:
                kids = [int(k) for k in fh.read().split()]
        except (OSError, ValueError):
            break
        if len(kids) != 1:
            break
        line.append(kids[0])
    return line


_TICK_NS = 1e9 / (os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100)


def _stat_ns(pid: int) -> int:
    """utime + stime of a process (all its threads, exited ones too), in ns."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return int((int(fields[11]) + int(fields[12])) * _TICK_NS)
    except (OSError, ValueError, IndexError):
        return 0


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
