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
again, slower, never wrong. It carries nothing from one submission to another: the files come
from the same file's own child, and live only in the inbox and tmpfs of its next child (and in
the store below, for the same bytes). numba writes each cache file whole (a temporary file, then
a rename) and the export runs between calls, so the index and the data files it lists are one
consistent snapshot.

Across grades, the same rules keep a file's compiled code for the next grade of the very same
bytes (`recall`/`keep`, a folder per sha256 under the grader's cache): a re-grade of an unchanged
file starts warm instead of compiling again (2-8 s for the Numba references). It is the
file's own output handed back to the same file, so it carries nothing to other code; numba
itself checks each entry against the source file's stamp, its own version and the CPU, and
compiles afresh on any mismatch. A grade with a leaderboard secret never reads or writes it,
nor does one with SPARSEBENCH_JIT_STORE=off.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np

from harness.transport import Bounds

MAX_FILES = 1024
MAX_BYTES = 32 << 20  # the Numba references need under 1 MiB; a tmpfs holds min(512, mem/4) MiB
BOUNDS = Bounds(max_bytes=MAX_BYTES, max_arrays=MAX_FILES, max_nodes=4 * MAX_FILES + 8, max_depth=4)
_PART = r"[A-Za-z0-9_][A-Za-z0-9_.+-]{0,199}"
NAME = re.compile(rf"({_PART}/)?{_PART}\.nb[ic]")  # numba's index (.nbi) and data (.nbc) files
SEED = "jit"  # the inbox folder the next child copies into its Numba cache
STORE_ENV = "SPARSEBENCH_JIT_STORE"  # "off": every grade compiles afresh
KEEP = 64  # files' entries kept in the store, the most recently used
_SHA = re.compile(r"[0-9a-f]{64}")


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
    return _write(files, inbox / SEED)


def _write(files: dict[str, bytes], root: Path) -> Path:
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
        path.write_bytes(data)
        path.chmod(0o644)
    return root


def recall(store: Path, sha256: str) -> dict[str, bytes]:
    """The files kept by an earlier grade of the file with this sha256, checked by the rules
    above; {} when there are none or any of them breaks a rule."""
    folder = store / sha256
    if not (_SHA.fullmatch(sha256) and folder.is_dir()) or folder.is_symlink():
        return {}
    pairs = []
    try:
        for path in sorted(folder.rglob("*")):
            if path.is_symlink() or not (path.is_file() or path.is_dir()):
                return {}
            if path.is_file():
                pairs.append([path.relative_to(folder).as_posix(), np.fromfile(path, dtype=np.uint8)])
            if len(pairs) > MAX_FILES:
                return {}
        os.utime(folder)  # recently used: the last to be pruned
    except OSError:
        return {}
    return checked(pairs)


def keep(store: Path, sha256: str, files: dict[str, bytes]) -> None:
    """Keep the files for the next grade of the same bytes (whole: written aside, then renamed
    into place), and prune the store to its KEEP most recently used entries. Never fails a grade:
    a store that cannot be written is a grade that compiles next time."""
    if not (files and _SHA.fullmatch(sha256)):
        return
    try:
        store.mkdir(parents=True, exist_ok=True)
        aside = Path(tempfile.mkdtemp(prefix=".new-", dir=store))
    except OSError:
        return
    try:
        _write(files, aside)
        target = store / sha256
        if target.exists():
            shutil.rmtree(target)
        os.rename(aside, target)  # another grade of the same file may have won the race: fine
        entries = sorted((p for p in store.iterdir() if _SHA.fullmatch(p.name)), key=lambda p: p.stat().st_mtime)
        for old in entries[:-KEEP]:
            shutil.rmtree(old, ignore_errors=True)
    except OSError:
        pass
    finally:
        shutil.rmtree(aside, ignore_errors=True)


def enabled(secret: str) -> bool:
    """Whether a grade may use the store: never with a leaderboard secret, nor when turned off."""
    return not secret and os.environ.get(STORE_ENV, "").lower() not in ("off", "0", "no")


__all__ = ["BOUNDS", "KEEP", "MAX_BYTES", "MAX_FILES", "SEED", "STORE_ENV", "checked", "enabled", "keep", "place",
           "recall"]
