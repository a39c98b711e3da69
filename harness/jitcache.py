"""A submission's compiled Numba code, handed from its correctness child to its timing child.

A grade runs a submission in two fresh children (correctness, then timing), and each used to
compile every jitted function from scratch: 2-8 s apiece for the Numba references, paid twice
before the first timed call. Now the correctness child, once every case has passed, sends the
files of its private Numba cache (numba's own index and data files) to the grader, which checks
them here and places them, read-only, in the timing child's inbox; the timing child copies them
into its own private cache at its first command (numba reads a cache at a function's first call),
so numba finds them as it would its own.

What crosses is bounded and plain: at most MAX_FILES files of MAX_BYTES in all, each a flat byte
array under a relative name of at most two plain parts that ends as numba's files do (.nbi,
.nbc; one folder per source file). Anything else (a link, `..`, an absolute path, another kind
of file, a non-byte array, too much) and nothing is handed over: the timing child compiles
again, slower, never wrong. It carries nothing from one submission to another, nor from one
grade to the next: the files come from the same file's own child in the same grade, and live
only in the inbox and tmpfs of its next child. numba writes
each cache file whole (a temporary file, then a rename) and the export runs between calls, so
the index and the data files it lists are one consistent snapshot.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from harness.transport import Bounds

MAX_FILES = 1024
MAX_BYTES = 32 << 20  # the Numba references need under 1 MiB; a tmpfs holds min(512, mem/4) MiB
BOUNDS = Bounds(max_bytes=MAX_BYTES, max_arrays=MAX_FILES, max_nodes=4 * MAX_FILES + 8, max_depth=4)
_PART = r"[A-Za-z0-9_][A-Za-z0-9_.+-]{0,199}"
NAME = re.compile(rf"({_PART}/)?{_PART}\.nb[ic]")  # numba's index (.nbi) and data (.nbc) files
SEED = "jit"  # the inbox folder the next child copies into its Numba cache


def checked(value: object) -> dict[str, bytes]:
    """The files in what a child sent (a list of [name, uint8 array] pairs), or {} when any part
    of it breaks the rules above."""
    if not isinstance(value, (list, tuple)) or len(value) > MAX_FILES:
        return {}
    files: dict[str, bytes] = {}
    total = 0
    for item in value:
        if not (isinstance(item, (list, tuple)) and len(item) == 2):
            return {}
        name, data = item
        if not (isinstance(name, str) and NAME.fullmatch(name) and ".." not in name and name not in files):
            return {}
        if not (isinstance(data, np.ndarray) and data.dtype == np.uint8 and data.ndim == 1):
            return {}
        total += data.nbytes
        if total > MAX_BYTES:
            return {}
        files[name] = data.tobytes()
    return files


def place(files: dict[str, bytes], inbox: Path) -> Path | None:
    """Write the files under inbox/SEED (the child reads them, never writes); None when there are none."""
    if not files:
        return None
    root = inbox / SEED
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
        path.write_bytes(data)
        path.chmod(0o644)
    return root


__all__ = ["BOUNDS", "MAX_BYTES", "MAX_FILES", "SEED", "checked", "place"]
