"""What a record says about where it was measured: CPU, libraries, threads, commit."""
from __future__ import annotations

import functools
import os
import platform
import subprocess
from importlib import metadata

from harness import ROOT, __version__

LIBRARIES = ("numpy", "scipy", "numba", "llvmlite", "pandas", "torch")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _versions() -> dict[str, str]:
    found = {}
    for lib in LIBRARIES:
        try:
            found[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            continue
    return found


def git_commit() -> str | None:
    """HEAD of the checkout, with '+dirty' when the tree has uncommitted changes."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("+dirty" if dirty else "")


@functools.lru_cache(maxsize=1)
def info() -> dict:
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "node": platform.node(),
        "libraries": _versions(),
        "sparsebench": __version__,
        "git_commit": git_commit(),
    }
