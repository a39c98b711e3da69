"""How much address space a grade's child needs just to start: Python, then NumPy.

`--mem N` caps the child's address space (RLIMIT_AS). Below what the interpreter and NumPy
map at start-up the child dies before the submission is even imported, with a "Fatal Python
error" or a NumPy import failure that says nothing about --mem. So the CLI measures the
floor once (a fresh interpreter set up like the child: `-E`, the same thread variables, since
OpenBLAS maps a buffer per thread) and refuses a smaller --mem with one line that says so.

The floor is measured, never assumed: it depends on the NumPy build, the BLAS, the thread
count and the machine (OpenBLAS sizes its buffers by the cores it sees): 97 MiB with one
thread and 137 MiB with two on the 2-core machine this was written on.
"""
from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from functools import cache

from harness import ROOT

_PROBE = ("import sys; sys.path.insert(0, sys.argv[1]); import numpy, harness.codec; "
          "print(open('/proc/self/status').read())")


class MemoryTooSmall(ValueError):
    """A --mem below what Python and NumPy need to start; the message says how much they need."""


@cache
def startup_mib(threads: int = 1) -> int | None:
    """Peak address space, in MiB rounded up, of a fresh interpreter that has imported NumPy
    and the child's codec with `threads` BLAS threads; None where it cannot be measured
    (no /proc, as on macOS, where RLIMIT_AS is not enforced the same way anyway)."""
    from harness.sandbox import THREAD_VARS  # local: the child's own thread variables, never a copy

    env = {k: os.environ[k] for k in ("PATH", "LANG", "LC_ALL") if k in os.environ}
    env.update({k: str(threads) for k in THREAD_VARS})
    try:
        out = subprocess.run([sys.executable, "-E", "-c", _PROBE, str(ROOT)], env=env, capture_output=True,
                             text=True, timeout=60, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"^VmPeak:\s+(\d+)\s*kB", out, re.MULTILINE)
    return math.ceil(int(m.group(1)) / 1024) if m else None


def check(mem_mb: int, threads: int = 1) -> None:
    """Raise MemoryTooSmall when `mem_mb` is below the measured start-up floor."""
    need = startup_mib(threads)
    if need is not None and mem_mb < need:
        raise MemoryTooSmall(f"--mem {mem_mb} MiB is too small for Python and NumPy to start "
                             f"(they need about {need} MiB with {threads} thread{'s' if threads != 1 else ''} "
                             f"on this machine); raise --mem")
