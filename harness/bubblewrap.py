"""A private file system for each child, built by bubblewrap (`bwrap`, Debian package `bubblewrap`).

A child sees: the interpreter and its libraries (read-only), harness/ (read-only; the child
imports harness.child, transport and types), its own file (read-only), its own inbox of inputs
(read-only), a private size-bounded tmpfs as /tmp (its HOME, TMPDIR and, for a submission, its
Numba cache: gone when the child ends), a fresh /proc of its own PID namespace (read-only), and
/dev/null, zero, full, random and urandom. Nothing else exists for it: not problems/, tinylm/,
quiz/, results/ or solutions/, not the other child's folders, not any cache of another grade, no
device beyond those five, no network. Libraries a problem forbids are covered by an empty
package that refuses to import, so they are absent rather than refused by name.

Each child runs in new user, mount, PID, network, IPC, UTS and cgroup namespaces, in a new
session, as uid 65534 inside with every capability dropped and no further user namespaces,
and dies with the grader. A trusted child (the timing reference, a baseline) sees the whole
repository read-only instead of harness/ alone, and may be given its Numba cache read-write.

Without a working bwrap the grader falls back to harness/isolation.py's namespaces or the audit
hook alone; `level()` says which, and the record and the grade's output say so.
"""
from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from harness import ROOT

INSIDE_UID = 65534
DEVICES = ("null", "zero", "full", "random", "urandom")
ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "localtime")
SYSTEM = ("usr", "lib", "lib32", "lib64", "libx32", "bin", "sbin")
TMP = "/tmp"  # inside: the child's private tmpfs
INBOX = "/run/sparsebench/in"  # inside: the child's inputs, read-only
MASK_MESSAGE = "raise ImportError('sparsebench: {name} is not installed in this sandbox (the problem forbids it)')\n"


class SandboxUnavailable(RuntimeError):
    """The isolation this run requires (SPARSEBENCH_REQUIRE_SANDBOX) is not available here."""


def executable() -> str | None:
    return shutil.which("bwrap")


@functools.cache
def probe() -> tuple[str | None, str]:
    """(path of a bwrap that works here, why not when it does not): tried once per process with
    the very options a child gets, so a kernel that refuses user namespaces shows here."""
    path = executable()
    if path is None:
        return None, "bwrap not found (install the Debian/Ubuntu package bubblewrap)"
    view = View(file=None, inbox=None, trusted=True)
    try:
        run = subprocess.run([path, *view.args(), sys.executable, "-E", "-S", "-c", "pass"], capture_output=True,
                             timeout=60, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"bwrap could not run ({exc})"
    if run.returncode != 0:
        return None, f"bwrap refused: {run.stderr.decode(errors='replace').strip()[:300]}"
    return path, ""


def python_roots() -> list[Path]:
    """The folders the interpreter needs: its installation, the environment's prefix, the
    standard library and site-packages (each an existing folder, deduplicated, outermost kept)."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             os.path.dirname(os.path.realpath(sys.executable))}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        paths.add(sysconfig.get_paths().get(key, ""))
    found = sorted({Path(p).resolve() for p in paths if p and os.path.isdir(p)}, key=lambda p: len(p.parts))
    return [p for i, p in enumerate(found) if not any(_within(p, q) for q in found[:i])]


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def masks(forbidden: tuple[str, ...]) -> list[Path]:
    """Where each forbidden library lives, as this interpreter would import it (package folders,
    or single module files), limited to what the child would otherwise see."""
    found = []
    roots = python_roots()
    for name in forbidden:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):  # a parent package missing, or not importable at all
            continue
        if spec is None:
            continue
        places = list(spec.submodule_search_locations or []) or ([spec.origin] if spec.origin else [])
        for place in places:
            p = Path(place).resolve()
            if p.exists() and any(_within(p, r) for r in roots):
                found.append(p)
    return sorted(set(found))


@functools.cache
def _mask_sources() -> tuple[Path, Path]:
    """A package folder and a module file that refuse to import (made once per grader process)."""
    folder = Path(tempfile.mkdtemp(prefix="sparsebench-mask-"))
    (folder / "pkg").mkdir()
    (folder / "pkg" / "__init__.py").write_text(MASK_MESSAGE.format(name="this library"))
    (folder / "mod.py").write_text(MASK_MESSAGE.format(name="this library"))
    for p in (folder, folder / "pkg"):
        p.chmod(0o755)
    return folder / "pkg", folder / "mod.py"


@dataclass
class View:
    """What one child sees; `args()` is the bwrap command line for it."""

    file: Path | None  # the solution file (read-only at its own path)
    inbox: Path | None  # the grader's folder of this child's inputs (read-only at INBOX)
    trusted: bool = False  # reference/baseline: the whole repository, read-only
    tmp_mb: int = 512  # the private tmpfs
    writable: list[Path] = field(default_factory=list)  # host folders bound read-write (the reference's cache)
    forbidden: tuple[str, ...] = ()

    def args(self) -> list[str]:
        a = ["--unshare-all", "--unshare-user", "--disable-userns", "--uid", str(INSIDE_UID), "--gid",
             str(INSIDE_UID), "--hostname", "sandbox", "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
        for name in SYSTEM:
            host = Path("/") / name
            if host.is_symlink():
                a += ["--symlink", os.readlink(host), str(host)]
            elif host.is_dir():
                a += ["--ro-bind", str(host), str(host)]
        for name in ETC:
            if (Path("/etc") / name).exists():
                a += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
        # the tmpfs first: a file or folder below /tmp on the host is bound on top of it
        a += ["--size", str(self.tmp_mb << 20), "--tmpfs", TMP, "--proc", "/proc", "--remount-ro", "/proc",
              "--tmpfs", "/dev"]
        for dev in DEVICES:
            a += ["--dev-bind", f"/dev/{dev}", f"/dev/{dev}"]
        a += ["--symlink", "/proc/self/fd", "/dev/fd"]
        for i, std in enumerate(("stdin", "stdout", "stderr")):
            a += ["--symlink", f"/proc/self/fd/{i}", f"/dev/{std}"]
        for root in python_roots():
            if not any(_within(root, Path("/") / s) for s in SYSTEM):
                a += ["--ro-bind", str(root), str(root)]
        a += ["--ro-bind", str(ROOT), str(ROOT)] if self.trusted else \
            ["--ro-bind", str(ROOT / "harness"), str(ROOT / "harness")]
        if self.file is not None:
            f = Path(self.file).resolve()
            if not (self.trusted and _within(f, ROOT)):
                a += ["--ro-bind", str(f), str(f)]
        package, module = _mask_sources() if self.forbidden else (None, None)
        for hidden in masks(self.forbidden):
            a += ["--ro-bind", str(package if hidden.is_dir() else module), str(hidden)]
        if self.inbox is not None:
            a += ["--ro-bind", str(self.inbox), INBOX]
        for folder in self.writable:
            a += ["--bind", str(folder), str(folder)]
        a += ["--remount-ro", "/", "--chdir", TMP]  # the view's own root too: only /tmp takes writes
        return a
