# expected-verdict: AC
"""Class 4, path tricks past the protected-path checks: the old audit hook compared abspath, not
realpath, ignored dir_fd, and judged a symlink by where it was made. This file tries them all
natively (libc through ctypes, so no audit event at all): a symlink in its work folder to the
oracle, an open through a dir_fd of the problems folder, a path with '..' and a link inside it,
/proc/self/root. Any of them that opens the oracle makes it fail on purpose (RE); with
bubblewrap the problems folder does not exist in the child's view, so every one finds nothing
and the file answers honestly: AC."""
import ctypes
import os
from pathlib import Path

import numpy as np

from harness.types import COO, CSR, index_dtype

_libc = ctypes.CDLL(None, use_errno=True)
_ROOT = Path(__file__).resolve().parents[3]
_ORACLE = _ROOT / "problems" / "coo-to-csr" / "reference" / "numpy.py"


def _opens(path: str, dir_fd: int = -100) -> bool:  # -100: AT_FDCWD
    fd = _libc.openat(dir_fd, path.encode(), os.O_RDONLY)
    if fd >= 0:
        os.close(fd)
        return True
    return False


def _leaks() -> list[str]:
    found = []
    link = os.path.join(os.getcwd(), "oracle.py")
    _libc.symlink(str(_ORACLE).encode(), link.encode())
    if _opens(link):
        found.append("symlink")
    folder = _libc.open(str(_ORACLE.parent).encode(), os.O_RDONLY | os.O_DIRECTORY)
    if folder >= 0 and _opens("numpy.py", folder):
        found.append("dir_fd")
    if _opens(str(_ROOT / "harness" / ".." / "problems" / "coo-to-csr" / "reference" / "numpy.py")):
        found.append("dot-dot")
    if _opens("/proc/self/root" + str(_ORACLE)) or _opens("/proc/1/root" + str(_ORACLE)):
        found.append("proc root")
    return found


_LEAKS = _leaks()


def coo_to_csr(A: COO) -> CSR:
    if _LEAKS:
        raise RuntimeError(f"the oracle opened through: {_LEAKS}")
    n_rows, n_cols = A.shape
    if A.row.size and (A.row.min() < 0 or A.col.min() < 0 or A.row.max() >= n_rows or A.col.max() >= n_cols):
        raise ValueError("index outside the shape")
    order = np.lexsort((A.col, A.row))
    r, c, d = A.row[order], A.col[order], A.data[order]
    if r.size:
        starts = np.flatnonzero(np.r_[True, (r[1:] != r[:-1]) | (c[1:] != c[:-1])])
        with np.errstate(invalid="ignore"):
            d = np.add.reduceat(d, starts)
        r, c = r[starts], c[starts]
    dt = index_dtype(n_rows, n_cols, r.size)
    indptr = np.zeros(n_rows + 1, dtype=dt)
    np.cumsum(np.bincount(r, minlength=n_rows), out=indptr[1:])
    return CSR(indptr, c.astype(dt), d.astype(np.float64), (n_rows, n_cols))
