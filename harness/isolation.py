"""Linux namespaces for a submission's process: no network, a read-only file system
outside its work folder, and a PID namespace so nothing it starts outlives it.

`enter()` runs in the child before any untrusted code, while the process is still
single-threaded. Where the kernel refuses (no root and no unprivileged user
namespaces, or not Linux), it changes nothing and says why: the audit hook in
child.py is then the only guard, and the record says so. Standard library only, so
it runs before numpy is imported.

Process layout when the PID namespace is available:

    grader ── supervisor (this process, outside the namespace)
                 └── init (PID 1 inside: reaps, mirrors the worker's exit)
                        └── worker (runs the submission)

When init exits the kernel kills every process left in the namespace, so a
grandchild that called setsid() or double-forked still dies with the grade.
"""
from __future__ import annotations

import ctypes
import errno
import os
import re
import signal
import sys

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x00020000, 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
_KEEP_FLAGS = MS_NOSUID | MS_NODEV | MS_NOEXEC | 1024 | 2048 | 4096  # + noatime, nodiratime, relatime
PR_SET_NO_NEW_PRIVS, PR_CAPBSET_DROP = 38, 24

_libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None
fresh_proc = False  # True in the worker when /proc lists only this grade's processes


class _Refused(OSError):
    pass


def _check(result: int, target: str | None = None) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise _Refused(err, os.strerror(err), target)


def _unshare(flags: int) -> None:
    _check(_libc.unshare(flags))


def _mount(source: str | None, target: str, fstype: str | None, flags: int) -> None:
    def enc(s: str | None) -> bytes | None:
        return None if s is None else os.fsencode(s)

    _check(_libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), None), target)


def _mount_points() -> list[tuple[str, str]]:
    """(mount point, file-system type) for every mount this process sees, parents first."""
    points = []
    with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as fh:
        for line in fh:
            left, _, right = line.partition(" - ")
            target = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), left.split()[4])  # \040: space
            points.append((target, right.split()[0]))
    return points


def _remount_read_only(target: str) -> None:
    flags = os.statvfs(target).f_flag & _KEEP_FLAGS  # keep what the parent locked (nosuid, ...)
    _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | flags)


def _read_only_except(writable: list[str]) -> list[str]:
    """Every mount read-only, except the folders in `writable` (bound onto themselves)
    and /proc (replaced later). Returns the mounts that could not be changed."""
    _mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing done here leaks back to the host
    keep = {os.path.realpath(w) for w in writable}
    for folder in keep:
        _mount(folder, folder, None, MS_BIND | MS_REC)
    failed = []
    for target, fstype in _mount_points():
        if target in keep or fstype == "proc" or target.startswith("/proc/"):
            continue
        try:
            _remount_read_only(target)
        except OSError as exc:
            if exc.errno not in (errno.ENOENT, errno.EACCES):  # a mount hidden under another one
                failed.append(target)
    os.chdir(os.getcwd())  # the working folder: through its new writable mount, not the read-only one
    return failed


def _fresh_proc() -> None:
    """/proc for the new PID namespace (it lists only the grade's processes), with the
    host-wide knobs made read-only or masked."""
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    _mount("/proc/sys", "/proc/sys", None, MS_BIND | MS_REC)
    _remount_read_only("/proc/sys")
    if os.path.exists("/proc/sysrq-trigger"):
        _mount("/dev/null", "/proc/sysrq-trigger", None, MS_BIND)


def _map_ids() -> None:
    """Inside a new user namespace, keep our own uid and gid."""
    uid, gid = os.getuid(), os.getgid()
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as fh:
            fh.write(text)


def drop_privileges() -> str | None:
    """No capabilities, now or after an exec: the read-only mounts cannot be undone.
    Returns what went wrong, if anything."""
    if _libc is None:
        return None
    try:
        with open("/proc/sys/kernel/cap_last_cap") as fh:
            last = int(fh.read())
    except (OSError, ValueError):
        last = 40
    for cap in range(last + 1):
        _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)  # fails harmlessly without CAP_SETPCAP
    _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    data = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable (x2): all empty
    if _libc.capset(header, data) != 0:
        return f"capabilities kept: capset failed ({os.strerror(ctypes.get_errno())})"
    return None


def enter(writable: list[str], grader_fds: list[int]) -> dict[str, str]:
    """Isolate this process; returns a note per aspect for the record. With a PID
    namespace this forks twice and returns only in the worker."""
    if _libc is None:
        why = f"audit-hook only: namespaces need Linux (this is {sys.platform})"
        return {"network": why, "filesystem": why, "processes": "process group only: " + why}
    flags = CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWPID
    how = "own namespaces"
    try:
        _unshare(flags)
    except OSError as first:
        try:
            _unshare(flags | CLONE_NEWUSER)
            how = "own namespaces (unprivileged, via a user namespace)"
            try:
                _map_ids()
            except OSError:
                pass  # unmapped ids: the steps below fail on their own and each note says so
        except OSError as second:
            why = f"audit-hook only: unshare refused ({first.strerror}; with a user namespace: {second.strerror})"
            return {"network": why, "filesystem": why,
                    "processes": f"process group only: unshare refused ({first.strerror})"}
    notes = {"network": f"isolated ({how}: no interfaces but a down loopback)"}
    try:
        failed = _read_only_except(writable)
        notes["filesystem"] = ("read-only except the work folder" + (f" (could not protect {', '.join(failed)})"
                                                                    if failed else ""))
    except OSError as exc:
        notes["filesystem"] = f"audit-hook only: mount {exc.filename} refused ({exc.strerror})"
    notes["processes"] = _fork_into_pid_namespace(grader_fds)
    return notes


def _fork_into_pid_namespace(grader_fds: list[int]) -> str:
    """Become the supervisor, fork init (PID 1 of the new namespace), which forks the
    worker; only the worker returns."""
    status_r, status_w = os.pipe()
    init = os.fork()
    if init:
        os.close(status_w)
        _close_inherited(grader_fds)
        _supervise(init, status_r)  # never returns
    os.close(status_r)
    global fresh_proc
    try:
        _fresh_proc()
        fresh_proc = True
        note = "own PID namespace: everything the submission starts dies with the grade"
    except OSError as exc:
        note = f"own PID namespace (host /proc still visible: mount {exc.filename} refused, {exc.strerror})"
    worker = os.fork()
    if worker:
        _close_inherited(grader_fds)
        _init(worker, status_w)  # never returns
    os.close(status_w)
    return note


def _init(worker: int, status_w: int) -> None:
    """PID 1: reap everything, and when the worker ends pass its wait status on and
    exit, which makes the kernel kill whatever else is left in the namespace."""
    while True:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            os._exit(1)
        except InterruptedError:
            continue
        if pid == worker:
            os.write(status_w, str(status).encode())
            os._exit(0)


def _supervise(init: int, status_r: int) -> None:
    """Outside the namespace: wait for init, then die the way the worker died, so the
    grader reads an ordinary exit status."""
    while True:
        try:
            os.waitpid(init, 0)
            break
        except InterruptedError:
            continue
    text = b""
    while chunk := os.read(status_r, 64):
        text += chunk
    try:
        status = int(text)
    except ValueError:  # init was killed before it could report
        os._exit(125)
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
        os._exit(128 + sig)  # a signal that does not kill by default
    os._exit(os.waitstatus_to_exitcode(status) & 0xFF)


def _close_inherited(fds: list[int]) -> None:
    """Supervisor and init keep no pipe to the grader open, so the grader sees EOF as
    soon as the worker and everything it started are gone."""
    import faulthandler

    faulthandler.disable()
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
